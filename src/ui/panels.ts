/**
 * Portal panels of the node's services, in display order: each renders `snapshot.services[service]` and sends
 * that service's commands. Add a capability's panel by adding it here.
 */
import type { Component } from 'svelte';
import type { ServicePanelProps } from './model.ts';
import ComputePanel from './panels/ComputePanel.svelte';
import StoragePanel from './panels/StoragePanel.svelte';
import CloudPanel from './panels/CloudPanel.svelte';

export interface ServicePanel {
  readonly service: string;
  readonly component: Component<ServicePanelProps>;
}

export const SERVICE_PANELS: readonly ServicePanel[] = [
  { service: 'compute', component: ComputePanel },
  { service: 'storage', component: StoragePanel },
  { service: 'cloud', component: CloudPanel },
];

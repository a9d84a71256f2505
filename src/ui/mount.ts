/** Mounts the Svelte portal into the page. The only entry the page (src/main.ts) uses. */
import { mount, unmount } from 'svelte';
import Portal from './Portal.svelte';
import type { PortalModel } from './model.ts';

export type { PortalModel } from './model.ts';

/** Renders the portal into `target`; returns a function that removes it again. */
export function mountPortal(target: HTMLElement, model: PortalModel): () => void {
  const app = mount(Portal, { target, props: { model } });
  return () => {
    void unmount(app);
  };
}

/** Driving the portal's compute panel from browser tests: submit the filled form, read a job's tasks. */
import type { Locator, Page } from 'playwright-core';
import { waitUntil } from './harness.ts';

/** Clicks submit and returns the new job's element; the note still names the previous job until this one is published. */
export async function submitComputeJob(page: Page, timeoutMs: number, what: string): Promise<Locator> {
  const note = page.getByTestId('compute-submitted');
  const idIn = async (): Promise<string | null> => /job ([0-9a-f]{16})/.exec((await note.count()) > 0 ? (await note.textContent()) ?? '' : '')?.[1] ?? null;
  const previous = await idIn();
  await page.getByTestId('compute-submit').click();
  await waitUntil(async () => { const id = await idIn(); return id !== null && id !== previous; }, timeoutMs, what);
  const jobId = (await idIn())!;
  return page.locator(`[data-testid="compute-job"][data-job-id="${jobId}"]`);
}

export async function tasksOf(job: Locator): Promise<{ task: number; state: string; stdout: string; error: string }[]> {
  return job.getByTestId('compute-task').evaluateAll((els) => els.map((e) => ({
    task: Number(e.getAttribute('data-task')),
    state: e.getAttribute('data-state') ?? '',
    stdout: e.querySelector('[data-testid="compute-task-stdout"]')?.textContent ?? '',
    error: e.querySelector('[data-testid="compute-task-error"]')?.textContent ?? '',
  })));
}

/**
 * Loading job modules for the form: the example list (/examples/index.json, validated with zod since it comes
 * from the network), an example's bytes, and an uploaded file's bytes. Every module is checked for the
 * WebAssembly magic number so a wrong file fails here with a named error, not on a remote host.
 */
import { z } from 'zod';
import type { ExampleModule } from './model.ts';
import { joinArgs } from './split-args.ts';

const exampleSchema = z.object({
  file: z.string().regex(/^[A-Za-z0-9._-]+\.wasm$/),
  title: z.string(),
  description: z.string(),
  defaultArgs: z.union([z.string(), z.array(z.string())]).optional(),
  defaultStdin: z.string().optional(),
});
const indexSchema = z.array(exampleSchema).max(200);

/** The index may give default arguments as a list of words or as a ready line; the form wants the line. */
function argsLine(args: string | readonly string[]): string {
  return typeof args === 'string' ? args : joinArgs(args);
}

/** Largest module the form accepts (the job is shipped to a peer whole). */
export const MAX_MODULE_BYTES = 32 * 1024 * 1024;

type Fetch = (url: string) => Promise<Response>;

export async function loadExampleIndex(fetchFn: Fetch): Promise<ExampleModule[]> {
  const response = await fetchFn('/examples/index.json');
  if (!response.ok) throw new Error(`E_EXAMPLES_UNAVAILABLE: /examples/index.json answered ${response.status}`);
  const parsed = indexSchema.safeParse(await response.json());
  if (!parsed.success) throw new Error('E_EXAMPLES_MALFORMED: /examples/index.json is not a list of examples');
  return parsed.data.map((e) => ({
    file: e.file,
    title: e.title,
    description: e.description,
    ...(e.defaultArgs === undefined ? {} : { defaultArgs: argsLine(e.defaultArgs) }),
    ...(e.defaultStdin === undefined ? {} : { defaultStdin: e.defaultStdin }),
  }));
}

export async function loadExampleBytes(fetchFn: Fetch, file: string): Promise<Uint8Array> {
  const response = await fetchFn(`/examples/${encodeURIComponent(file)}`);
  if (!response.ok) throw new Error(`E_EXAMPLE_UNAVAILABLE: ${file} answered ${response.status}`);
  return checkedModule(new Uint8Array(await response.arrayBuffer()), file);
}

export async function readUploadedModule(file: Blob & { readonly name: string }): Promise<Uint8Array> {
  if (file.size > MAX_MODULE_BYTES) {
    throw new Error(`E_MODULE_TOO_LARGE: ${file.name} is over ${MAX_MODULE_BYTES / 1024 / 1024} MiB`);
  }
  return checkedModule(new Uint8Array(await file.arrayBuffer()), file.name);
}

/** A WebAssembly binary starts with `\0asm`. */
function checkedModule(bytes: Uint8Array, name: string): Uint8Array {
  const magic = [0x00, 0x61, 0x73, 0x6d];
  if (bytes.length < 8 || magic.some((b, i) => bytes[i] !== b)) {
    throw new Error(`E_NOT_WASM: ${name} is not a WebAssembly module`);
  }
  if (bytes.length > MAX_MODULE_BYTES) {
    throw new Error(`E_MODULE_TOO_LARGE: ${name} is over ${MAX_MODULE_BYTES / 1024 / 1024} MiB`);
  }
  return bytes;
}

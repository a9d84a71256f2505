/**
 * The index.json that scripts/build-x86-guests.sh writes next to each set of content-addressed guest images
 * (public/guests/<set>/<sha256>): the v86 version its snapshot was saved with, every file by name with its sha256,
 * and the domain those files make. A host loads it to know which bytes to fetch and verify.
 */
import { z } from 'zod';
import { x86DomainSchema, type X86Domain } from './x86-task.ts';

export const x86GuestIndexSchema = z.object({
  v86: z.string().max(64),
  domain: x86DomainSchema,
  files: z.array(z.object({
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: z.number().int().min(0),
  })).max(64),
});
export type X86GuestIndex = z.infer<typeof x86GuestIndexSchema>;

/** sha256 of the file called `name`, or throws: a missing file is a broken build, not a user error. */
export function guestFileHash(index: X86GuestIndex, name: string): string {
  const file = index.files.find((f) => f.name === name);
  if (!file) throw new Error(`guest index has no file named ${name}`);
  return file.sha256;
}

/** The index's domain, with or without its booted snapshot. */
export function guestDomain(index: X86GuestIndex, useSnapshot: boolean): X86Domain {
  if (useSnapshot) return index.domain;
  const { snapshot: _snapshot, ...cold } = index.domain;
  return cold;
}

/** Browser counterpart of src/depot/follow-file.ts: there are no local files to follow. */
export async function fileIdentity(_path: string): Promise<string | undefined> {
  return undefined;
}

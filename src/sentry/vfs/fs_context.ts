// Placeholder: the vfs helper replaces this file with the real root/cwd context.
export class FsContext {}

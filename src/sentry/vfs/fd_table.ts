// Placeholder: the vfs helper replaces this file with the real fd table.
export class FdTable {}

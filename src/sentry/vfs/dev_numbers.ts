// Device numbers for file systems without a backing device (Linux's anonymous block devices:
// major 0, minors handed out in order). Module state: a counter; never throws.

import { makeDev } from '../../abi/linux/file.js';

let nextMinor = 16;

/** A fresh st_dev for one file system instance. */
export function allocAnonDev(): number {
  return makeDev(0, nextMinor++);
}

/* cmd_verify.h: `trawl verify`: check a store's hash chain and checkpoints. */
#ifndef TRAWL_CMD_VERIFY_H
#define TRAWL_CMD_VERIFY_H

/*
 * Run `trawl verify` with its own argv (argv[0] = "verify"); the exit
 * code: 0 intact, 1 damaged (the first bad block is printed), 2 usage or
 * I/O error.
 */
int cmd_verify(int argc, char **argv);

#endif

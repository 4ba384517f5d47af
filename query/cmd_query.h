/* cmd_query.h: `trawl query`: search a collector's store. */
#ifndef TRAWL_CMD_QUERY_H
#define TRAWL_CMD_QUERY_H

/*
 * Run `trawl query` with its own argv (argv[0] = "query"); the exit code:
 * 0 when records matched, 1 when none did, 2 on an error.
 */
int cmd_query(int argc, char **argv);

#endif

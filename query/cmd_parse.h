/* cmd_parse.h: `trawl parse`: raw log input to canonical JSON records. */
#ifndef TRAWL_CMD_PARSE_H
#define TRAWL_CMD_PARSE_H

/* Run `trawl parse` with its own argv (argv[0] = "parse"); the exit code. */
int cmd_parse(int argc, char **argv);

#endif

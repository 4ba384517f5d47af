/* cmd_rules.h: `trawl rules check` and `trawl rules test` (DESIGN.md §9). */
#ifndef TRAWL_CMD_RULES_H
#define TRAWL_CMD_RULES_H

/* Run `trawl rules` with its own argv (argv[0] = "rules"); the exit code. */
int cmd_rules(int argc, char **argv);

#endif

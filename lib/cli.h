/* cli.h: (being written) */
#ifndef TW_CLI_H
#define TW_CLI_H
#endif

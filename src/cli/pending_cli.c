/* pending_cli.c: placeholders until info and convert land. Deleted by the change that implements them. */
#include "cli.h"
int cli_info(int argc, char **argv) { return cli_error(NULL, "info is not implemented yet"); }
int cli_convert(int argc, char **argv) { return cli_error(NULL, "convert is not implemented yet"); }

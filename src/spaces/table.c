/* table.c — the search spaces, in the order --help lists them. Adding a space: its file
 * defines a space_t, and one extern line and one row here list it. */
#include "spaces/space.h"

extern const space_t space_nb201, space_nasrec, space_darts;

const space_t *const space_all[] = {&space_nb201, &space_nasrec, &space_darts, NULL};

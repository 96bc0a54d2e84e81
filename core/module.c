/*
 * Numbers the modules of the static list once per process.
 */
#include "module.h"

size_t mg_modules_n;

void mg_modules_init(void)
{
    if (mg_modules_n) {
        return;
    }
    size_t i = 0;
    for (; mg_modules[i]; i++) {
        mg_modules[i]->index = (int)i;
    }
    mg_modules_n = i;
}

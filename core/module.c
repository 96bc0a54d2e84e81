/*
 * Numbers the modules of the static list, once per process.
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

void mg_modules_init_worker(mg_cycle_t *cycle)
{
    for (size_t i = 0; mg_modules[i]; i++) {
        if (mg_modules[i]->init_worker) {
            mg_modules[i]->init_worker(cycle);
        }
    }
}

void mg_modules_exit_worker(mg_cycle_t *cycle)
{
    for (size_t i = 0; mg_modules[i]; i++) {
        if (mg_modules[i]->exit_worker) {
            mg_modules[i]->exit_worker(cycle);
        }
    }
}

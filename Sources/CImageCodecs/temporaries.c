// Removing in-flight temporary files when SIGINT or SIGTERM arrives (Sources/Colorize/TemporaryFiles.swift),
// and deferring the first such signal while a training loop runs (Sources/Colorize/Interrupts.swift).
//
// A signal handler may only call async-signal-safe functions, so the paths live in fixed slots that the
// handler reads without locks: a slot's state goes FREE -> WRITING (path being copied, skipped by the
// handler) -> READY (the handler unlinks it) -> FREE. The handler unlinks every READY path, restores the
// default action and re-raises the signal, so the process ends as it would have (exit status 128 + signal).
//
// NOTE: libdispatch signal sources need the signal set to SIG_IGN, and on Linux an ignored signal is
// discarded before libdispatch sees it (measured: SIGINT and SIGTERM then did nothing), hence C.

#include "include/image_codecs.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define MC_SLOTS 64
#define MC_PATH 4096

enum { FREE = 0, WRITING = 1, READY = 2 };

static _Atomic int slot_state[MC_SLOTS];
/// While > 0, the first SIGINT/SIGTERM only records itself in `requested` (a second one ends the process).
static _Atomic int deferring;
static volatile sig_atomic_t requested;
static char slot_path[MC_SLOTS][MC_PATH];
static atomic_flag installed = ATOMIC_FLAG_INIT;

static void remove_ready(void) {
    for (int i = 0; i < MC_SLOTS; i++) {
        if (atomic_load(&slot_state[i]) == READY) unlink(slot_path[i]);
    }
}

static void on_signal(int number) {
    if (atomic_load(&deferring) > 0 && !requested) {
        requested = number;
        return;
    }
    remove_ready();
    signal(number, SIG_DFL);
    raise(number);
}

static void install(void) {
    if (atomic_flag_test_and_set(&installed)) return;
    int numbers[] = {SIGINT, SIGTERM};
    for (int k = 0; k < 2; k++) {
        struct sigaction previous;
        // Leave a handler someone else installed (or SIG_IGN, e.g. under nohup) alone.
        if (sigaction(numbers[k], NULL, &previous) == 0 && previous.sa_handler != SIG_DFL) continue;
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = on_signal;
        sigemptyset(&action.sa_mask);
        sigaction(numbers[k], &action, NULL);
    }
}

int mc_temporary_register(const char *path) {
    install();
    size_t length = strlen(path);
    if (length >= MC_PATH) return -1;
    for (int i = 0; i < MC_SLOTS; i++) {
        int expected = FREE;
        if (atomic_compare_exchange_strong(&slot_state[i], &expected, WRITING)) {
            memcpy(slot_path[i], path, length + 1);
            atomic_store(&slot_state[i], READY);
            return i;
        }
    }
    return -1;
}

void mc_temporary_unregister(int slot) {
    if (slot >= 0 && slot < MC_SLOTS) atomic_store(&slot_state[slot], FREE);
}

int mc_temporary_remove(int slot) {
    if (slot < 0 || slot >= MC_SLOTS) return -1;
    int expected = READY;
    if (!atomic_compare_exchange_strong(&slot_state[slot], &expected, WRITING)) return -1;
    int status = unlink(slot_path[slot]);
    atomic_store(&slot_state[slot], FREE);
    return status;
}

void mc_interrupt_defer_begin(void) {
    install();
    atomic_fetch_add(&deferring, 1);
}

void mc_interrupt_defer_end(void) { atomic_fetch_sub(&deferring, 1); }

int mc_interrupt_requested(void) { return requested; }

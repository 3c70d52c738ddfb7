/*
 * tracees.c - the engine's table of traced threads, keyed by tid.
 *
 * A plain array: sessions trace a handful to a few hundred threads, and nearly every stop comes
 * from the thread looked up last, which is checked first. Only the engine thread uses it.
 */
#include "engine_internal.h"

#include <stddef.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sp_tracee *sp_tracee_find(struct sp_tracee_table *t, pid_t tid)
{
    if (t->last && t->last->tid == tid)
        return t->last;
    for (size_t i = 0; i < t->count; i++) {
        if (t->items[i]->tid == tid) {
            t->last = t->items[i];
            return t->last;
        }
    }
    return NULL;
}

struct sp_tracee *sp_tracee_add(struct sp_tracee_table *t, pid_t tid, pid_t tgid)
{
    struct sp_tracee *tr = sp_tracee_find(t, tid);
    if (tr)
        return tr;
    if (t->count == t->capacity) {
        size_t capacity = t->capacity ? t->capacity * 2 : 16;
        struct sp_tracee **items = realloc(t->items, capacity * sizeof(*items));
        if (!items)
            return NULL;
        t->items = items;
        t->capacity = capacity;
    }
    /* Only the header of the event needs zeroing; its data is written before it is read. */
    tr = malloc(sizeof(*tr));
    if (!tr)
        return NULL;
    memset(tr, 0, offsetof(struct sp_tracee, ev) + offsetof(struct sp_event, data));
    tr->tid = tid;
    tr->tgid = tgid > 0 ? tgid : tid;
    t->items[t->count++] = tr;
    t->last = tr;
    return tr;
}

void sp_tracee_remove(struct sp_tracee_table *t, pid_t tid)
{
    for (size_t i = 0; i < t->count; i++) {
        if (t->items[i]->tid == tid) {
            if (t->last == t->items[i])
                t->last = NULL;
            sp_unshown_drop(t, t->items[i]);
            free(t->items[i]);
            t->items[i] = t->items[--t->count];
            return;
        }
    }
}

/* The list of calls whose entry is not shown yet (config.entry_records): few at a time. */
void sp_unshown_add(struct sp_tracee_table *t, struct sp_tracee *tr)
{
    if (tr->entry_unshown)
        return;
    tr->entry_unshown = 1;
    tr->unshown_prev = NULL;
    tr->unshown_next = t->unshown;
    if (t->unshown)
        t->unshown->unshown_prev = tr;
    t->unshown = tr;
}

void sp_unshown_drop(struct sp_tracee_table *t, struct sp_tracee *tr)
{
    if (!tr->entry_unshown)
        return;
    tr->entry_unshown = 0;
    if (tr->unshown_prev)
        tr->unshown_prev->unshown_next = tr->unshown_next;
    else
        t->unshown = tr->unshown_next;
    if (tr->unshown_next)
        tr->unshown_next->unshown_prev = tr->unshown_prev;
    tr->unshown_prev = tr->unshown_next = NULL;
}

void sp_tracee_rename(struct sp_tracee_table *t, struct sp_tracee *tr, pid_t new_tid)
{
    sp_tracee_remove(t, new_tid);
    tr->tid = new_tid;
    tr->tgid = new_tid;
    tr->ev.tid = new_tid;
    tr->ev.pid = new_tid;
}

void sp_tracee_table_free(struct sp_tracee_table *t)
{
    for (size_t i = 0; i < t->count; i++)
        free(t->items[i]);
    free(t->items);
    memset(t, 0, sizeof(*t));
}

pid_t sp_read_tgid(pid_t tid)
{
    char path[64], line[256];
    pid_t tgid = tid;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
    FILE *f = fopen(path, "re");
    if (!f)
        return tid;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "Tgid:", 5) == 0) {
            tgid = (pid_t)atoi(line + 5);
            break;
        }
    }
    fclose(f);
    return tgid;
}

static pid_t read_ppid(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *end = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
    int ppid;
    char state;
    if (!end || sscanf(end + 1, " %c %d", &state, &ppid) != 2)
        return -1;
    return (pid_t)ppid;
}

/* SIGKILL root and its descendants. The tree is frozen with SIGSTOP first, so nobody forks or
 * gets reparented while /proc is read; rounds repeat until one finds nothing new. */
void sp_kill_tree(pid_t root)
{
    enum { MAX = 4096 };
    static pid_t found[MAX];
    size_t count = 0;
    if (root <= 0)
        return;
    found[count++] = root;
    kill(root, SIGSTOP);
    for (int round = 0; round < 8; round++) {
        size_t before = count;
        DIR *dir = opendir("/proc");
        if (!dir)
            break;
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL && count < MAX) {
            pid_t pid = (pid_t)atoi(entry->d_name);
            if (pid <= 0)
                continue;
            pid_t ppid = read_ppid(pid);
            int known = 0, parent_known = 0;
            for (size_t i = 0; i < count; i++) {
                known |= found[i] == pid;
                parent_known |= found[i] == ppid;
            }
            if (parent_known && !known) {
                kill(pid, SIGSTOP);
                found[count++] = pid;
            }
        }
        closedir(dir);
        if (count == before)
            break;
    }
    for (size_t i = 0; i < count; i++)
        kill(found[i], SIGKILL);
}

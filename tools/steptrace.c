/* Runs a program (standard output to /dev/null) one instruction at a
 * time under ptrace and prints each distinct instruction address, in
 * the order they first run: the input of tools/hot-functions. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* Open-addressing set of the addresses seen (a default run executes
 * some 40,000 distinct ones). */
#define SLOTS (1u << 22)
static unsigned long *slots;

static int seen(unsigned long address) {
    unsigned long i = ((address * 0x9E3779B97F4A7C15ul) >> 40) & (SLOTS - 1);
    while (slots[i]) {
        if (slots[i] == address) return 1;
        i = (i + 1) & (SLOTS - 1);
    }
    slots[i] = address;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: steptrace PROGRAM [ARG...]\n");
        return 2;
    }
    slots = calloc(SLOTS, sizeof *slots);
    if (!slots) return 2;
    pid_t child = fork();
    if (child == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execv(argv[1], argv + 1);
        _exit(127);
    }
    int status;
    waitpid(child, &status, 0);
    unsigned long distinct = 0;
    for (;;) {
        struct user_regs_struct regs;
        if (ptrace(PTRACE_GETREGS, child, 0, &regs) < 0) break;
        if (!seen(regs.rip)) {
            printf("%lx\n", regs.rip);
            distinct++;
            if (distinct > SLOTS / 2) {
                fprintf(stderr, "steptrace: too many distinct addresses\n");
                return 2;
            }
        }
        if (ptrace(PTRACE_SINGLESTEP, child, 0, 0) < 0) break;
        waitpid(child, &status, 0);
        if (WIFEXITED(status) || WIFSIGNALED(status)) break;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

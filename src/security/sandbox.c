/*
 * sandbox.c: a seccomp filter (libseccomp) that makes the calls data could
 * leave the device by fail with EPERM, so that even a bug in hearth (or in a
 * library it uses) cannot send anything out once the model is mapped:
 *   - HEARTH_SANDBOX_NO_NET: socket() and socketpair() for the internet and
 *     raw packet families (AF_INET, AF_INET6, AF_PACKET), and io_uring_setup
 *     (io_uring can open and use sockets without going through the socket
 *     system calls the filter sees);
 *   - HEARTH_SANDBOX_NO_EXEC: execve, execveat, ptrace and
 *     process_vm_writev (no other program started, no other process
 *     written into).
 * Everything else stays allowed (files, AF_UNIX sockets, threads; also
 * arch_prctl, with which the kernels ask for AMX's tile state, though they
 * do so when they are chosen, before any filter is applied), so the
 * filter goes on the whole process, every thread at once (TSYNC): the
 * thread pools already run when it is applied. The filter cannot be removed;
 * children inherit it.
 */
#include "hearth.h"

#include "util/error.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>
#include <sys/socket.h>

/* LeakSanitizer stops the world with ptrace when the process exits, so a
 * sanitizer build keeps ptrace allowed (and says so in hearth.h). */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_KEEP_PTRACE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_KEEP_PTRACE 1
#endif
#endif
#ifndef SANDBOX_KEEP_PTRACE
#define SANDBOX_KEEP_PTRACE 0
#endif

static int rule_family(scmp_filter_ctx f, int sysno, int family) {
    /* spelled out: SCMP_A0() leaves datum_b to the compiler's zeroing */
    struct scmp_arg_cmp first_is = {.arg = 0, .op = SCMP_CMP_EQ,
                                    .datum_a = (scmp_datum_t)family, .datum_b = 0};
    return seccomp_rule_add_array(f, SCMP_ACT_ERRNO(EPERM), sysno, 1, &first_is);
}

hearth_status hearth_sandbox_apply(unsigned flags, hearth_error *err) {
    if (!flags) return HEARTH_OK;
    if (flags & ~(unsigned)(HEARTH_SANDBOX_NO_NET | HEARTH_SANDBOX_NO_EXEC))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "sandbox: unknown flags 0x%x", flags);
    scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
    if (!f) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "sandbox: seccomp_init failed");
    int rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1);
    if (!rc && (flags & HEARTH_SANDBOX_NO_NET)) {
        static const int families[] = {AF_INET, AF_INET6, AF_PACKET};
        for (size_t i = 0; !rc && i < sizeof families / sizeof *families; i++) {
            rc = rule_family(f, SCMP_SYS(socket), families[i]);
            if (!rc) rc = rule_family(f, SCMP_SYS(socketpair), families[i]);
        }
        if (!rc) rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(io_uring_setup), 0);
    }
    if (!rc && (flags & HEARTH_SANDBOX_NO_EXEC)) {
        static const int calls[] = {SCMP_SYS(execve), SCMP_SYS(execveat),
                                    SCMP_SYS(process_vm_writev), SCMP_SYS(ptrace)};
        size_t n = sizeof calls / sizeof *calls - (SANDBOX_KEEP_PTRACE ? 1 : 0);
        for (size_t i = 0; !rc && i < n; i++)
            rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), calls[i], 0);
    }
    if (!rc) rc = seccomp_load(f);
    seccomp_release(f);
    if (rc)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "sandbox: the seccomp filter could not be "
                           "applied: %s", strerror(-rc));
    return HEARTH_OK;
}

#ifndef HTTPKIT_CEDITLINE_SHIM_H
#define HTTPKIT_CEDITLINE_SHIM_H
#include <stdio.h>
#include <editline/readline.h>

// Swift 6 refuses to touch mutable C globals, so reach libedit's through small accessors.
static inline const char *httpkit_rl_library_version(void) { return rl_library_version; }
static inline void httpkit_rl_set_readline_name(const char *name) { rl_readline_name = (char *)name; }
static inline void httpkit_rl_set_completion(rl_completion_func_t *fn) { rl_attempted_completion_function = fn; }
static inline void httpkit_rl_set_completion_append_character(int c) { rl_completion_append_character = c; }
// 1: no filename completion when the REPL's own completion finds nothing (paths are the server's, not the disk's).
static inline void httpkit_rl_set_attempted_completion_over(int over) { rl_attempted_completion_over = over; }
static inline const char *httpkit_rl_line_buffer(void) { return rl_line_buffer; }
static inline int httpkit_history_length(void) { return history_length; }
#endif

/* commands.h - one entry point per `spinemet` subcommand.
 *
 * Each takes the subcommand's own argv (argv[0] is the subcommand name) and
 * returns a process exit code from exit_codes.h. */
#ifndef SP_COMMANDS_H
#define SP_COMMANDS_H

int sp_cmd_scan(int argc, char **argv);
int sp_cmd_convert(int argc, char **argv);
int sp_cmd_segment(int argc, char **argv);
int sp_cmd_analyze(int argc, char **argv);
int sp_cmd_batch(int argc, char **argv); /* cmd_batch.c */
int sp_cmd_merge(int argc, char **argv); /* cmd_merge.c */
int sp_cmd_pull(int argc, char **argv);  /* cmd_pull.c */
int sp_cmd_push(int argc, char **argv);  /* cmd_push.c */
int sp_cmd_phantom(int argc, char **argv); /* phantom/cmd_phantom.c */

#endif

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ycm-onboard/ycm-onboard/state"
)

// usersCommand manages the local accounts of the web page. They live in the run
// history's database, so the state directory is found as status finds it.
func (a *app) usersCommand() *cobra.Command {
	var hf historyFlags
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage the accounts that sign in to the web page (ycm-onboard serve)",
		Long: `Manage the accounts that sign in to the web page (ycm-onboard serve). They are kept,
with their roles and password hashes, in the state directory's database.

Roles, from least to most: uploader, approver, admin. Each may do all that the roles
below it may; an admin also manages the accounts.

A password (12 to 256 characters) is read from standard input: typed twice without echo
on a terminal, else the first line, so that a script can pipe it:

    printf '%s\n' "$PW" | ycm-onboard users add ann --role approver`,
		Args: cobra.NoArgs, // runnable, so that a mistyped subcommand is an error
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().StringVar(&hf.stateDir, "state-dir", "", "directory of the run history and accounts (default $XDG_STATE_HOME/ycm-onboard or ~/.local/state/ycm-onboard; on Windows %LOCALAPPDATA%\\ycm-onboard)")
	cmd.AddCommand(a.usersAddCommand(&hf), a.usersListCommand(&hf), a.usersRemoveCommand(&hf),
		a.usersPasswdCommand(&hf), a.usersRoleCommand(&hf))
	return cmd
}

func (a *app) usersAddCommand(hf *historyFlags) *cobra.Command {
	var roleName string
	cmd := &cobra.Command{
		Use:   "add NAME --role uploader|approver|admin",
		Short: "Add an account; its password is read from standard input",
		Args:  usersArgs(1, "add NAME --role uploader|approver|admin"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := userName(args[0])
			if err != nil {
				return err
			}
			if roleName == "" {
				return exitf(exitUsage, "--role is missing: give uploader, approver or admin")
			}
			role, err := state.ParseRole(roleName)
			if err != nil {
				return exitf(exitUsage, fmt.Sprintf("--role %q: use uploader, approver or admin", roleName))
			}
			store, _, err := a.openAccounts(cmd, hf, true)
			if err != nil {
				return err
			}
			defer store.Close()
			ctx := cmd.Context()
			// Asked before the password, so nobody types one for nothing.
			if _, err := store.User(ctx, name); err == nil {
				return userExists(name)
			} else if !errors.Is(err, state.ErrNoUser) {
				return exitf(exitUsage, err.Error())
			}
			pw, err := a.readNewPassword(ctx, name)
			if err != nil {
				return err
			}
			switch err := store.AddUser(ctx, name, role, pw); {
			case errors.Is(err, state.ErrUserExists):
				return userExists(name)
			case err != nil:
				return exitf(exitUsage, err.Error())
			}
			fmt.Fprintf(a.stderr, "ycm-onboard: user %s added as %s\n", name, role)
			if ok, err := store.HasAdmin(ctx); err == nil && !ok {
				fmt.Fprintln(a.stderr, "ycm-onboard: no account is an admin yet: add one with ycm-onboard users add NAME --role admin to manage accounts from the web page")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&roleName, "role", "", "what the account may do: uploader, approver or admin")
	return cmd
}

func (a *app) usersListCommand(hf *historyFlags) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the accounts: name, role, when created",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return exitf(exitUsage, fmt.Sprintf("--format %q: use table or json", format))
			}
			// No database yet is no accounts yet; list does not create one.
			var users []state.User
			store, dir, err := a.openAccounts(cmd, hf, false)
			switch {
			case errors.Is(err, errNoAccounts):
			case err != nil:
				return err
			default:
				defer store.Close()
				if users, err = store.Users(cmd.Context()); err != nil {
					return exitf(exitUsage, err.Error())
				}
			}
			if format == "json" {
				return writeUsersJSON(a.stdout, users)
			}
			return writeUsersTable(a.stdout, users, dir, a.now().Location())
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output: table or json")
	return cmd
}

func (a *app) usersRemoveCommand(hf *historyFlags) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove an account; the last admin only with --force",
		Args:  usersArgs(1, "remove NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := userName(args[0])
			if err != nil {
				return err
			}
			store, dir, err := a.openExisting(cmd, hf, name)
			if err != nil {
				return err
			}
			defer store.Close()
			remove := store.RemoveUser
			if force {
				remove = store.ForceRemoveUser
			}
			switch err := remove(cmd.Context(), name); {
			case errors.Is(err, state.ErrNoUser):
				return noUser(name, dir)
			case errors.Is(err, state.ErrLastAdmin):
				return exitf(exitUsage, fmt.Sprintf("%s is the last admin: removing them leaves no one to manage accounts; make another user an admin first (ycm-onboard users role NAME admin), or pass --force", name))
			case err != nil:
				return exitf(exitUsage, err.Error())
			}
			fmt.Fprintf(a.stderr, "ycm-onboard: user %s removed\n", name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "remove the last admin too")
	return cmd
}

func (a *app) usersPasswdCommand(hf *historyFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "passwd NAME",
		Short: "Change an account's password; it is read from standard input",
		Args:  usersArgs(1, "passwd NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := userName(args[0])
			if err != nil {
				return err
			}
			store, dir, err := a.openExisting(cmd, hf, name)
			if err != nil {
				return err
			}
			defer store.Close()
			ctx := cmd.Context()
			if _, err := store.User(ctx, name); errors.Is(err, state.ErrNoUser) {
				return noUser(name, dir)
			} else if err != nil {
				return exitf(exitUsage, err.Error())
			}
			pw, err := a.readNewPassword(ctx, name)
			if err != nil {
				return err
			}
			switch err := store.SetPassword(ctx, name, pw); {
			case errors.Is(err, state.ErrNoUser):
				return noUser(name, dir)
			case err != nil:
				return exitf(exitUsage, err.Error())
			}
			fmt.Fprintf(a.stderr, "ycm-onboard: password of %s changed\n", name)
			return nil
		},
	}
}

func (a *app) usersRoleCommand(hf *historyFlags) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "role NAME uploader|approver|admin",
		Short: "Change an account's role; the last admin is demoted only with --force",
		Args:  usersArgs(2, "role NAME uploader|approver|admin"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := userName(args[0])
			if err != nil {
				return err
			}
			role, err := state.ParseRole(args[1])
			if err != nil {
				return exitf(exitUsage, err.Error())
			}
			store, dir, err := a.openExisting(cmd, hf, name)
			if err != nil {
				return err
			}
			defer store.Close()
			set := store.SetRole
			if force {
				set = store.ForceSetRole
			}
			switch err := set(cmd.Context(), name, role); {
			case errors.Is(err, state.ErrNoUser):
				return noUser(name, dir)
			case errors.Is(err, state.ErrLastAdmin):
				return exitf(exitUsage, fmt.Sprintf("%s is the last admin: making them %s leaves no one to manage accounts; make another user an admin first (ycm-onboard users role NAME admin), or pass --force", name, article(role)))
			case err != nil:
				return exitf(exitUsage, err.Error())
			}
			fmt.Fprintf(a.stderr, "ycm-onboard: %s is now %s\n", name, article(role))
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "demote the last admin too")
	return cmd
}

// usersArgs wants n arguments, else shows the usage line.
func usersArgs(n int, usage string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return exitf(exitUsage, "usage: ycm-onboard users "+usage)
		}
		return nil
	}
}

func userName(arg string) (string, error) {
	name, err := state.ParseUserName(arg)
	if err != nil {
		return "", exitf(exitUsage, err.Error())
	}
	return name, nil
}

// article is "an admin", "an approver", "an uploader".
func article(r state.Role) string { return "an " + string(r) }

func userExists(name string) error {
	return exitf(exitUsage, fmt.Sprintf("user %s exists: use ycm-onboard users passwd %s to change the password, or users role %s ROLE to change the role", name, name, name))
}

func noUser(name, dir string) error {
	return exitf(exitUsage, fmt.Sprintf("no user %s in %s: see ycm-onboard users list, or add them with users add %s --role ROLE", name, dir, name))
}

// errNoAccounts: the state directory has no database, so no accounts.
var errNoAccounts = errors.New("no accounts")

// openAccounts opens the database of the state directory (--state-dir, else the
// configuration file's state_dir, else the default) and returns it with the directory.
// Without create, a missing database is errNoAccounts and is not made.
func (a *app) openAccounts(cmd *cobra.Command, hf *historyFlags, create bool) (*state.Store, string, error) {
	c, err := a.loadConfig()
	if err != nil {
		return nil, "", err
	}
	if c != nil {
		setter{cmd.Flags()}.str("state-dir", &hf.stateDir, c.StateDir)
	}
	dir, err := a.stateDir(*hf)
	if err != nil {
		return nil, "", exitf(exitUsage, err.Error())
	}
	if !create {
		if _, err := os.Stat(filepath.Join(dir, state.DBName)); errors.Is(err, os.ErrNotExist) {
			return nil, dir, errNoAccounts
		}
	}
	store, err := state.Open(dir, a.now)
	if err != nil {
		return nil, dir, exitf(exitUsage, err.Error())
	}
	return store, dir, nil
}

// readNewPassword reads name's new password from standard input: on a terminal typed
// twice without echo, else the first line with its trailing white space trimmed. It
// checks the password before it is typed again. No message quotes it.
func (a *app) readNewPassword(ctx context.Context, name string) (string, error) {
	weak := func(err error) error {
		return exitf(exitUsage, fmt.Sprintf("user %s: %v; nothing changed", name, err))
	}
	f, ok := a.stdin.(*os.File)
	if !a.stdinTTY || !ok {
		pw, err := readPasswordLine(a.stdin)
		if err != nil {
			return "", err
		}
		if err := state.CheckPassword(pw); err != nil {
			return "", weak(err)
		}
		return pw, nil
	}
	pw, err := a.promptPassword(ctx, f, "Password for "+name+": ")
	if err != nil {
		return "", err
	}
	if err := state.CheckPassword(pw); err != nil {
		return "", weak(err)
	}
	again, err := a.promptPassword(ctx, f, "Again: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", exitf(exitUsage, "the two passwords differ: nothing changed; run the command again")
	}
	return pw, nil
}

const pipeHint = `pipe it as one line, e.g. printf '%s\n' "$PW" | ycm-onboard users add NAME --role ROLE`

// readPasswordLine reads the first line of r, its trailing white space trimmed.
func readPasswordLine(r io.Reader) (string, error) {
	// A password has at most 256 characters of at most 4 bytes; a line ending later
	// is read no further, and the password then fails its check.
	line, err := bufio.NewReader(io.LimitReader(r, 4*state.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", exitf(exitUsage, fmt.Sprintf("read the password from standard input: %v", err))
	}
	pw := strings.TrimRightFunc(line, unicode.IsSpace)
	if pw == "" {
		return "", exitf(exitUsage, "no password on standard input: "+pipeHint)
	}
	return pw, nil
}

// promptPassword asks on standard error and reads a line from the terminal without
// echo. Interrupted, it puts the terminal back as it was and exits: the read cannot be
// woken, and a second interrupt would otherwise exit with echo still off.
func (a *app) promptPassword(ctx context.Context, f *os.File, prompt string) (string, error) {
	fd := int(f.Fd())
	saved, err := term.GetState(fd)
	if err != nil {
		return "", exitf(exitUsage, fmt.Sprintf("read the password from the terminal: %v", err))
	}
	fmt.Fprint(a.stderr, prompt)
	var (
		mu      sync.Mutex
		reading = true
	)
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if reading {
			_ = term.Restore(fd, saved)
			fmt.Fprintln(a.stderr)
			fmt.Fprintln(a.stderr, "ycm-onboard: interrupted: nothing changed")
			os.Exit(exitInterrupted)
		}
	})
	b, err := term.ReadPassword(fd)
	mu.Lock()
	reading = false
	mu.Unlock()
	stop()
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", exitf(exitUsage, fmt.Sprintf("read the password from the terminal: %v", err))
	}
	return string(b), nil
}

func writeUsersTable(w io.Writer, users []state.User, dir string, loc *time.Location) error {
	if len(users) == 0 {
		_, err := fmt.Fprintf(w, "No accounts in %s: add one with ycm-onboard users add NAME --role admin\n", dir)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Name, u.Role, u.Created.In(loc).Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

func writeUsersJSON(w io.Writer, users []state.User) error {
	type jsonUser struct {
		Name            string    `json:"name"`
		Role            string    `json:"role"`
		Created         time.Time `json:"created"`
		PasswordChanged time.Time `json:"password_changed"`
	}
	out := []jsonUser{}
	for _, u := range users {
		out = append(out, jsonUser{u.Name, string(u.Role), u.Created.UTC(), u.PasswordChanged.UTC()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// openExisting opens the accounts of a command about the account name: with no
// database yet, there is no such account.
func (a *app) openExisting(cmd *cobra.Command, hf *historyFlags, name string) (*state.Store, string, error) {
	store, dir, err := a.openAccounts(cmd, hf, false)
	if errors.Is(err, errNoAccounts) {
		return nil, dir, noUser(name, dir)
	}
	return store, dir, err
}

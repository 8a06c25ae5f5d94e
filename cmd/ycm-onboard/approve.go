package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/notify"
	"github.com/ycm-onboard/ycm-onboard/state"
)

func (a *app) approveCommand() *cobra.Command {
	var (
		f      runFlags
		as     string
		refuse bool
		reason string
	)
	cmd := &cobra.Command{
		Use:   "approve RUN-ID",
		Short: "Apply a proposal another person made, exactly as planned (four eyes), or refuse it",
		Long: `Apply a proposal exactly as it was planned: an apply whose plan needs approval
(require_approval in the configuration file) saved it instead of applying it. Another
person approves it: its author cannot. A proposal the portal changed since is refused
as stale (exit 3) and can never be applied: run apply again for a new one.

The approver is --as NAME, a page account (see users) that is an approver or an admin,
whose password is read from standard input; without --as, the name this computer
knows you by. --refuse refuses the proposal instead, with --reason.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitf(exitUsage, "give the proposal's run id: ycm-onboard approve RUN-ID (ycm-onboard status lists them)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return exitf(exitUsage, fmt.Sprintf("%q is not a run id: give the number ycm-onboard status lists", args[0]))
			}
			if f.planFile != "" {
				return exitf(exitUsage, "approve takes no --plan: it applies the proposal's own plan")
			}
			if refuse && strings.TrimSpace(reason) == "" {
				return exitf(exitUsage, "--refuse needs --reason TEXT: the author reads why")
			}
			if err := a.applyConfig(cmd, &f); err != nil {
				return err
			}
			dir, err := a.stateDir(f.hist)
			if err != nil {
				return exitf(exitUsage, err.Error())
			}
			name, err := a.checkApprover(cmd.Context(), dir, id, as)
			if err != nil {
				return err
			}
			if refuse {
				// Every receiver heard of the proposal: each hears of its refusal. A
				// receiver whose secret is missing refuses the refusal, as it does a run.
				rs, err := a.receivers(f.notify, a.notifyRoots)
				if err != nil {
					return err
				}
				return a.refuseProposal(cmd.Context(), dir, id, name, reason, rs)
			}
			f.planFile, f.approve, f.approver = state.ProposalPath(dir, id), id, name
			return a.batch(cmd, job.Apply, nil, &f)
		},
	}
	f.add(cmd.Flags(), true)
	_ = cmd.Flags().MarkHidden("plan")
	cmd.Flags().StringVar(&as, "as", "", "approve as this page account (approver or admin); its password is read from standard input")
	cmd.Flags().BoolVar(&refuse, "refuse", false, "refuse the proposal instead of applying it (with --reason)")
	cmd.Flags().StringVar(&reason, "reason", "", "with --refuse: why, for the author")
	return cmd
}

// osUserName is the person at this terminal: the system's user name, else "cli".
func (a *app) osUserName() string {
	if a.osUser != nil {
		return a.osUser()
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "cli"
}

// checkApprover says who approves proposal id in the state directory dir: the
// account --as names, its password checked, or the person at this terminal. The
// proposal must be pending and its author someone else (four eyes: exit 3).
func (a *app) checkApprover(ctx context.Context, dir string, id int64, as string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, state.DBName)); err != nil {
		return "", exitf(exitUsage, fmt.Sprintf("no run history in %s: no proposal to approve (pass --state-dir)", dir))
	}
	store, err := state.Open(dir, a.now)
	if err != nil {
		return "", exitf(exitUsage, err.Error())
	}
	defer store.Close()
	name := a.osUserName()
	if as != "" {
		if name, err = a.authenticate(ctx, store, as); err != nil {
			return "", err
		}
	}
	p, err := store.Proposal(ctx, id)
	if errors.Is(err, state.ErrNoProposal) {
		return "", exitf(exitUsage, fmt.Sprintf("there is no proposal %d in %s; ycm-onboard status lists the pending ones", id, dir))
	}
	if err != nil {
		return "", exitf(exitLocal, err.Error())
	}
	if p.Status != state.ProposalPending {
		return "", exitf(exitUsage, job.NotPending(p)+": nothing was changed")
	}
	if job.SameUser(p.Author, name) {
		return "", exitf(exitGuard, fmt.Sprintf("proposal %d was proposed by %s: another approver must approve or refuse it (four eyes); nothing was changed", id, p.Author))
	}
	return name, nil
}

// authenticate checks the password of the account name, read from standard input,
// and that it may approve.
func (a *app) authenticate(ctx context.Context, store *state.Store, as string) (string, error) {
	name, err := userName(as)
	if err != nil {
		return "", err
	}
	var pw string
	if f, ok := a.stdin.(*os.File); ok && a.stdinTTY {
		pw, err = a.promptPassword(ctx, f, "Password for "+name+": ")
	} else {
		pw, err = readPasswordLine(a.stdin)
	}
	if err != nil {
		return "", err
	}
	u, err := store.Authenticate(ctx, name, pw)
	if err != nil {
		return "", exitf(exitUsage, fmt.Sprintf("--as %s: wrong name or password; nothing was changed", name))
	}
	if !u.Role.AtLeast(state.RoleApprover) {
		return "", exitf(exitUsage, fmt.Sprintf("--as %s: %s is %s: only an approver or an admin may approve", name, name, article(u.Role)))
	}
	return u.Name, nil
}

// refuseProposal records that name refused proposal id, and why, and tells rs.
func (a *app) refuseProposal(ctx context.Context, dir string, id int64, name, reason string, rs []notify.Receiver) error {
	store, err := state.Open(dir, a.now)
	if err != nil {
		return exitf(exitUsage, err.Error())
	}
	defer store.Close()
	reason = strings.TrimSpace(reason)
	if err := store.DecideProposal(ctx, id, []state.ProposalStatus{state.ProposalPending}, state.ProposalRefused, name, reason, 0); err != nil {
		return exitf(exitUsage, fmt.Sprintf("proposal %d is no longer pending: nothing was changed", id))
	}
	a.log.Info().Int64("proposal", id).Str("by", name).Str("reason", reason).Msg("proposal refused")
	fmt.Fprintf(a.stdout, "Proposal %d refused by %s.\n", id, name)
	if len(rs) > 0 {
		p, err := store.Proposal(ctx, id)
		if err != nil {
			a.log.Warn().Err(err).Msg("the refusal was recorded but not told: the proposal could not be read back")
			return nil
		}
		host, _ := os.Hostname()
		a.send(ctx, rs, notify.NewRefusal(notify.Decision{Proposal: id, Author: p.Author, By: name, Reason: reason}, "", host, a.now()))
	}
	return nil
}

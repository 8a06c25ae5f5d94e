package main

import (
	"errors"

	"github.com/ycm-onboard/ycm-onboard/job"
)

// Exit codes: scripts and schedulers rely on them; the README lists them. How a run
// ended maps to one in job.ExitCode; these are for the command line's own mistakes and
// for the tests.
const (
	exitOK          = 0   // success, or nothing to do
	exitPartial     = 1   // some actions failed, rows were skipped for errors, or the report was lost
	exitUsage       = 2   // usage error, unreadable input, validate found errors, --strict refused
	exitGuard       = 3   // a safety guard refused the plan; nothing was written
	exitFatal       = 4   // fatal portal error: authentication, IP blocked, unreachable
	exitLocked      = 5   // another apply holds the state directory's lock
	exitLocal       = 6   // this machine failed: state directory full or unwritable, run history damaged
	exitInterrupted = 130 // interrupted by a signal
)

// exitError carries an exit code and a message for the person at the terminal.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func exitf(code int, msg string) error { return &exitError{code: code, msg: msg} }

// exitCode is the one place an error becomes an exit code: how a job ended, or a
// command line mistake; anything else is a usage error.
func exitCode(err error) (int, string) {
	var ee *exitError
	var jf *job.Failure
	switch {
	case errors.As(err, &ee):
		return ee.code, ee.msg
	case errors.As(err, &jf):
		return job.ExitCode(jf), jf.Message
	}
	return exitUsage, err.Error()
}

// endingOf is how a run that returned err ended, for its metrics: the job's own
// ending, or for the command line's mistakes before the job, the ending of their
// exit code (a bad flag or file is refused, exit 2).
func endingOf(err error) job.Ending {
	var jf *job.Failure
	if errors.As(err, &jf) {
		return jf.Ending
	}
	if err == nil {
		return job.Done
	}
	code, _ := exitCode(err)
	for e := job.Done; e <= job.Interrupted; e++ {
		if job.ExitCode(&job.Failure{Ending: e}) == code {
			return e
		}
	}
	return job.Refused
}

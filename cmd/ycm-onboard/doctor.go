package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ycm-onboard/ycm-onboard/job"
	"github.com/ycm-onboard/ycm-onboard/portal"
	"github.com/ycm-onboard/ycm-onboard/reconcile"
)

func (a *app) doctorCommand() *cobra.Command {
	var (
		pf      portalFlags
		jsonOut bool
	)
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check a portal before the first run: log in once, read one page of each list, write nothing",
		Long: `Check that the job can run against a portal. doctor logs in to the Partner Portal and
YCM once each, reads the first page of every list the job reads, asks for an unknown
colleague and an unknown PBX to see how errors look, and prints what it found: the
shape of each answer, ids as numbers or strings, the token lifetime, whether YCM says
how many extensions are in use, and any rate-limit headers. It writes nothing to the
portal and never retries a refused login.

Exit 0: the job can run here. 4: a login was refused, the IP is blocked or the portal
did not answer. 1: something the job needs could not be read (see the lines marked ✗).
--json prints the findings as one JSON object, for a support ticket.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.portalConfig(cmd, &pf); err != nil {
				return err
			}
			pf.attempts = 2 // a check, not a run: say what is wrong soon
			c, err := a.connect(pf)
			if err != nil {
				return err
			}
			defer c.close()
			d := portal.Diagnose(cmd.Context(), c.partner, c.ycm)
			var failure *job.Failure
			switch {
			case d.Fatal() != nil && portal.KindOf(d.Fatal()) == portal.KindServer:
				failure = &job.Failure{Ending: job.PortalDown, Err: d.Fatal(), Message: "doctor: " + d.Fatal().Error() +
					". The answers are not the Yeastar API's: check the portal URL (--partner-url, --ycm-url, --portal); if it is right, the portal is failing: try again later"}
			case d.Fatal() != nil:
				failure = &job.Failure{Ending: job.PortalDown, Message: "doctor: " + reconcile.Explain(d.Fatal()), Err: d.Fatal()}
			case !d.Ready():
				failure = &job.Failure{Ending: job.Partial, Message: "doctor: the job cannot run against this portal yet: see the lines marked ✗"}
			}
			code := job.ExitCode(failure)
			if jsonOut {
				out := struct {
					portal.Diagnosis
					Portal   portalSummary `json:"portal"`
					Ready    bool          `json:"ready"`
					ExitCode int           `json:"exit_code"`
				}{d, c.summary(), code == exitOK, code}
				enc := json.NewEncoder(a.stdout)
				enc.SetEscapeHTML(false)
				if err := enc.Encode(out); err != nil {
					return err
				}
				a.summaryDone = true // one JSON object per run, failed or not
			} else {
				printDiagnosis(a.stdout, d, c)
			}
			if failure != nil {
				return failure
			}
			return nil
		},
	}
	addPortalFlags(cmd.Flags(), &pf)
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print the findings as JSON on stdout")
	return cmd
}

func printDiagnosis(w io.Writer, d portal.Diagnosis, c *conn) {
	section := func(title, url string, a portal.APIDiagnosis) {
		fmt.Fprintf(w, "%s (%s)\n", title, url)
		mark := func(ok bool) string {
			if ok {
				return "✓"
			}
			return "✗"
		}
		login := "no token: see below"
		if a.LoggedIn {
			login = "ok"
			if a.TokenLifetime != "" {
				login += fmt.Sprintf(", token lifetime %s (a JSON %s)", a.TokenLifetime, a.TokenLifetimeType)
			}
		}
		fmt.Fprintf(w, "  %s login: %s\n", mark(a.LoggedIn), login)
		for _, l := range a.Lists {
			switch {
			case l.Failure != "" && l.Name == "YCM users": // the job does without them
				fmt.Fprintf(w, "  · %s: not readable: %s\n", l.Name, l.Failure)
				continue
			case l.Failure != "":
				fmt.Fprintf(w, "  ✗ %s: %s\n", l.Name, l.Failure)
				continue
			}
			line := fmt.Sprintf("%s, %d on the first page", l.Shape, l.Items)
			if l.Total > 0 {
				line += fmt.Sprintf(" of %d", l.Total)
			}
			var ids []string
			for _, f := range slices.Sorted(maps.Keys(l.IDTypes)) {
				ids = append(ids, f+" "+l.IDTypes[f])
			}
			if len(ids) > 0 {
				line += "; " + strings.Join(ids, ", ")
			}
			fmt.Fprintf(w, "  ✓ %s: %s\n", l.Name, line)
		}
		if e := a.Error; e != nil {
			what := fmt.Sprintf("HTTP %d", e.HTTPStatus)
			if e.Code != "" {
				what += ", code " + e.Code
			}
			if e.Errno != 0 {
				what += fmt.Sprintf(", error code %d", e.Errno)
			}
			if len(e.Fields) > 0 {
				what += ", fields " + strings.Join(e.Fields, " ")
			}
			fmt.Fprintf(w, "  %s errors: %s → %s, read as %s\n", mark(e.Recognised), e.Asked, what, e.Kind)
		}
		if a.Throttled > 0 {
			fmt.Fprintf(w, "  · throttled %d times: the client waited and tried again\n", a.Throttled)
		}
		if len(a.ThrottleHeaders) > 0 {
			fmt.Fprintf(w, "  · rate-limit headers: %s\n", strings.Join(a.ThrottleHeaders, "; "))
		}
		if a.Failure != "" && !slices.ContainsFunc(a.Lists, func(l portal.ListShape) bool { return l.Failure == a.Failure }) {
			fmt.Fprintf(w, "  ✗ %s\n", a.Failure)
		}
		for _, n := range a.Notes {
			fmt.Fprintf(w, "  · %s\n", n)
		}
	}
	s := c.summary()
	pu, yu := s.PartnerURL, s.YCMURL
	if s.Simulator {
		pu, yu = "built-in simulator", "built-in simulator"
	}
	section("Partner Portal", pu, d.Partner)
	section("YCM", yu, d.YCM)
	if d.Ready() {
		fmt.Fprintln(w, "Ready: the job can run against this portal.")
	} else {
		fmt.Fprintln(w, "Not ready: see the lines marked ✗.")
	}
}

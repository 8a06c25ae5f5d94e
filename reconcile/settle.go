package reconcile

import (
	"strings"
	"time"

	"github.com/ycm-onboard/ycm-onboard/portal"
)

// Unsettled is a change an earlier run sent, or was about to send, without recording
// its result: the run was killed or lost power in between.
type Unsettled struct {
	Object   string // ColleagueObject.String() or InstanceObject.String()
	Key      string // lower-case e-mail, or the PBX's SN
	Kind     string // a Kind's String(), or KindResend
	PortalID int64  // the colleague's id the change was about; 0 for a create
	Started  time.Time
}

// KindResend is the kind recorded for a re-invite sent through YCM's activation e-mail,
// which keeps the colleague: settling it differs from a re-invite that re-creates one.
const KindResend = "re-invite by YCM e-mail"

// Settlement is what became of an unsettled change, as the portal shows it now.
type Settlement struct {
	Outcome string // "applied", "not run" or "unknown"
	Message string
	// Invited, when set, is an invitation the change sent, for the run history.
	Invited *Invitation
}

// Invitation is an activation e-mail sent to a colleague.
type Invitation struct {
	Email       string
	ColleagueID int64
	At          time.Time
	Reinvite    bool
}

// Settle tells, for each unsettled change, what the portal's colleagues show became of
// it. The next plan is made from the portal as it is, so nothing is created or e-mailed
// twice; settling keeps the record of runs and invitations true.
func Settle(pending []Unsettled, colleagues []portal.Colleague) []Settlement {
	byEmail := make(map[string]portal.Colleague, len(colleagues))
	for _, c := range colleagues {
		byEmail[strings.ToLower(c.Email)] = c
	}
	out := make([]Settlement, len(pending))
	for i, p := range pending {
		s := Settlement{Outcome: "unknown", Message: "an earlier run stopped before it recorded the result; the portal was read again"}
		if p.Object != ColleagueObject.String() {
			out[i] = s
			continue
		}
		c, ok := byEmail[p.Key]
		switch p.Kind {
		case Create.String(), Reinvite.String():
			switch {
			case ok && c.ID == p.PortalID:
				s.Outcome, s.Message = "not run", "the expired invitation is still there: this run plans it again"
			case ok:
				s.Outcome, s.Message = "applied", "found on the portal after the earlier run stopped"
				at := c.CreatedAt
				if at.IsZero() {
					at = p.Started
				}
				s.Invited = &Invitation{Email: c.Email, ColleagueID: c.ID, At: at, Reinvite: p.Kind == Reinvite.String()}
			default:
				s.Outcome, s.Message = "not run", "not on the portal after the earlier run stopped: this run plans it again"
			}
		case KindResend:
			// Whether YCM sent the e-mail cannot be read back. Taken as not sent: the
			// colleague's link is still expired, so this run sends it again. At worst
			// the colleague gets two e-mails; taken as sent, a lost one would leave
			// them with no working link and nobody told.
			if ok && c.ID == p.PortalID {
				s.Message = "an earlier run stopped while asking YCM to send the activation e-mail; it may not have been sent, so this run sends it again if the link is still expired"
			}
		case Delete.String():
			if !ok {
				s.Outcome, s.Message = "applied", "gone from the portal after the earlier run stopped"
			}
		}
		out[i] = s
	}
	return out
}

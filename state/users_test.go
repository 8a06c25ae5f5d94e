package state

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	annPW = "the-password-of-ann"
	bobPW = "the-password-of-bob"
	newPW = "the-new-password-of-ann"
)

func TestParseRole(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Role
		ok   bool
	}{
		{"uploader", RoleUploader, true},
		{"Approver", RoleApprover, true},
		{" ADMIN ", RoleAdmin, true},
		{"", "", false},
		{"root", "", false},
		{"admins", "", false},
	} {
		got, err := ParseRole(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseRole(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "use uploader, approver or admin") {
			t.Errorf("ParseRole(%q): %v; want the three roles named", tc.in, err)
		}
	}
}

func TestRoleAtLeast(t *testing.T) {
	roles := []Role{RoleUploader, RoleApprover, RoleAdmin}
	for i, r := range roles {
		for j, o := range roles {
			if got, want := r.AtLeast(o), i >= j; got != want {
				t.Errorf("%s.AtLeast(%s) = %v, want %v", r, o, got, want)
			}
		}
		if r.AtLeast("root") || Role("root").AtLeast(r) || Role("").AtLeast(r) {
			t.Errorf("an unknown role compares with %s", r)
		}
	}
}

func TestParseUserName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"ann", "ann", true},
		{"  Ann.Lee@Example.COM\t", "ann.lee@example.com", true},
		{"a_b-c.d@e9", "a_b-c.d@e9", true},
		{strings.Repeat("x", 64), strings.Repeat("x", 64), true},
		{strings.Repeat("x", 65), "", false},
		{"", "", false},
		{"   ", "", false},
		{"ann lee", "", false},
		{"ann/lee", "", false},
		{"jürgen", "", false},
		{"\u0430nn", "", false}, // a Cyrillic "а"
		{"ann\x00", "", false},
	} {
		got, err := ParseUserName(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseUserName(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadName) {
			t.Errorf("ParseUserName(%q): %v; want ErrBadName", tc.in, err)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		name, pw string
		ok       bool
		msg      string
	}{
		{"11 characters", "abcdefghijk", false, "at least 12 characters"},
		{"12 characters", "abcdefghijkl", true, ""},
		{"12 characters in 24 bytes", strings.Repeat("é", 12), true, ""},
		{"11 characters in 33 bytes", strings.Repeat("€", 11), false, "at least 12 characters"},
		{"256 characters", strings.Repeat("p", 256), true, ""},
		{"257 characters", strings.Repeat("p", 257), false, "at most 256 characters"},
		{"empty", "", false, "at least 12 characters"},
		{"not UTF-8", "abcdefghijkl\xff", false, "not valid UTF-8"},
	} {
		err := CheckPassword(tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("%s: CheckPassword: %v, want ok %v", tc.name, err, tc.ok)
			continue
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrWeakPassword) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: CheckPassword: %v; want ErrWeakPassword saying %q", tc.name, err, tc.msg)
		}
		if tc.pw != "" && strings.Contains(err.Error(), tc.pw) {
			t.Errorf("%s: the error %q holds the password", tc.name, err)
		}
	}
}

// TestUserAccounts takes accounts through their life, one step after another on one
// store: each step's error must be the one named (nil: none).
func TestUserAccounts(t *testing.T) {
	c := newClock(t0)
	s := openStore(t, t.TempDir(), c)
	ctx := t.Context()
	auth := func(name, pw string) func() error {
		return func() error {
			u, err := s.Authenticate(ctx, name, pw)
			if err == nil && u.Name != normName(name) {
				return errors.New("authenticated as " + u.Name)
			}
			return err
		}
	}
	role := func(name string, want Role) func() error {
		return func() error {
			u, err := s.User(ctx, name)
			if err == nil && u.Role != want {
				return errors.New("role " + string(u.Role))
			}
			return err
		}
	}
	hasAdmin := func(want bool) func() error {
		return func() error {
			got, err := s.HasAdmin(ctx)
			if err == nil && got != want {
				return errors.New("HasAdmin is wrong")
			}
			return err
		}
	}
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"no admin at first", hasAdmin(false), nil},
		{"add ann", func() error { return s.AddUser(ctx, " Ann ", RoleAdmin, annPW) }, nil},
		{"an admin now", hasAdmin(true), nil},
		{"add ann again", func() error { return s.AddUser(ctx, "ann", RoleUploader, bobPW) }, ErrUserExists},
		{"add ANN", func() error { return s.AddUser(ctx, "ANN", RoleUploader, bobPW) }, ErrUserExists},
		{"the duplicate changed nothing", auth("ann", annPW), nil},
		{"add bob with a weak password", func() error { return s.AddUser(ctx, "bob", RoleApprover, "short-pw") }, ErrWeakPassword},
		{"bob was not added", role("bob", ""), ErrNoUser},
		{"add a bad name", func() error { return s.AddUser(ctx, "bob smith", RoleApprover, bobPW) }, ErrBadName},
		{"add an unknown role", func() error { return s.AddUser(ctx, "bob", "root", bobPW) }, errAny},
		{"add bob", func() error { c.Advance(time.Hour); return s.AddUser(ctx, "Bob", RoleApprover, bobPW) }, nil},
		{"ann logs in", auth("ann", annPW), nil},
		{"ANN logs in", auth(" ANN", annPW), nil},
		{"bob logs in", auth("bob", bobPW), nil},
		{"ann with bob's password", auth("ann", bobPW), ErrBadLogin},
		{"ann with her password in capitals", auth("ann", strings.ToUpper(annPW)), ErrBadLogin},
		{"ann with no password", auth("ann", ""), ErrBadLogin},
		{"an unknown name", auth("carol", annPW), ErrBadLogin},
		{"a name that cannot be", auth("ann lee", annPW), ErrBadLogin},
		{"a huge password", auth("ann", strings.Repeat("x", 1<<20)), ErrBadLogin},
		{"user of an unknown name", role("carol", ""), ErrNoUser},
		{"set a weak password", func() error { return s.SetPassword(ctx, "ann", "too-short") }, ErrWeakPassword},
		{"the weak one did not replace it", auth("ann", annPW), nil},
		{"set ann's password", func() error { c.Advance(time.Hour); return s.SetPassword(ctx, "ANN", newPW) }, nil},
		{"the old password stops working", auth("ann", annPW), ErrBadLogin},
		{"the new one works", auth("ann", newPW), nil},
		{"set an unknown user's password", func() error { return s.SetPassword(ctx, "carol", newPW) }, ErrNoUser},
		{"make bob an uploader", func() error { return s.SetRole(ctx, "BOB", RoleUploader) }, nil},
		{"bob is an uploader", role("bob", RoleUploader), nil},
		{"set an unknown user's role", func() error { return s.SetRole(ctx, "carol", RoleAdmin) }, ErrNoUser},
		{"set an unknown role", func() error { return s.SetRole(ctx, "bob", "root") }, errAny},
		{"demote the last admin", func() error { return s.SetRole(ctx, "ann", RoleApprover) }, ErrLastAdmin},
		{"remove the last admin", func() error { return s.RemoveUser(ctx, "ann") }, ErrLastAdmin},
		{"ann is still an admin", role("ann", RoleAdmin), nil},
		{"make bob an admin", func() error { return s.SetRole(ctx, "bob", RoleAdmin) }, nil},
		{"make ann an admin again", func() error { return s.SetRole(ctx, "ann", RoleAdmin) }, nil},
		{"demote ann, bob is an admin", func() error { return s.SetRole(ctx, "ann", RoleApprover) }, nil},
		{"remove bob, the last admin", func() error { return s.RemoveUser(ctx, "bob") }, ErrLastAdmin},
		{"remove ann", func() error { return s.RemoveUser(ctx, "Ann") }, nil},
		{"ann is gone", role("ann", ""), ErrNoUser},
		{"ann cannot log in", auth("ann", newPW), ErrBadLogin},
		{"remove ann again", func() error { return s.RemoveUser(ctx, "ann") }, ErrNoUser},
		{"demote bob by force", func() error { return s.ForceSetRole(ctx, "bob", RoleApprover) }, nil},
		{"no admin left", hasAdmin(false), nil},
		{"make bob an admin with none", func() error { return s.SetRole(ctx, "bob", RoleAdmin) }, nil},
		{"remove bob by force", func() error { return s.ForceRemoveUser(ctx, "bob") }, nil},
		{"remove no one by force", func() error { return s.ForceRemoveUser(ctx, "bob") }, ErrNoUser},
		{"add ann back", func() error { return s.AddUser(ctx, "ann", RoleUploader, annPW) }, nil},
		{"an uploader may be removed with no admin", func() error { return s.RemoveUser(ctx, "ann") }, nil},
	}
	for _, st := range steps {
		err := st.do()
		switch {
		case st.want == nil && err != nil:
			t.Errorf("%s: %v", st.name, err)
		case st.want == errAny && err == nil:
			t.Errorf("%s: no error", st.name)
		case st.want != nil && st.want != errAny && !errors.Is(err, st.want):
			t.Errorf("%s: %v, want %v", st.name, err, st.want)
		}
		if st.want == ErrBadLogin && err != ErrBadLogin {
			t.Errorf("%s: %v; want ErrBadLogin itself, whatever the cause", st.name, err)
		}
		if err != nil {
			for _, pw := range []string{annPW, bobPW, newPW, "short-pw", "too-short"} {
				if strings.Contains(err.Error(), pw) {
					t.Errorf("%s: the error %q holds a password", st.name, err)
				}
			}
		}
	}
}

var errAny = errors.New("any error")

func TestUsersList(t *testing.T) {
	c := newClock(t0)
	dir := t.TempDir()
	s := openStore(t, dir, c)
	ctx := t.Context()
	if us, err := s.Users(ctx); err != nil || len(us) != 0 {
		t.Fatalf("Users of none: %v, %v", us, err)
	}
	for _, u := range []struct {
		name string
		role Role
	}{{"carol", RoleUploader}, {"Ann", RoleAdmin}, {"bob", RoleApprover}} {
		if err := s.AddUser(ctx, u.name, u.role, annPW); err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Minute)
	}
	if err := s.SetPassword(ctx, "bob", bobPW); err != nil {
		t.Fatal(err)
	}
	want := []User{
		{Name: "ann", Role: RoleAdmin, Created: t0.Add(time.Minute), PasswordChanged: t0.Add(time.Minute)},
		{Name: "bob", Role: RoleApprover, Created: t0.Add(2 * time.Minute), PasswordChanged: t0.Add(3 * time.Minute)},
		{Name: "carol", Role: RoleUploader, Created: t0, PasswordChanged: t0},
	}
	us, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, us); d != "" {
		t.Errorf("Users (-want +got):\n%s", d)
	}
	u, err := s.User(ctx, "BOB")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want[1], u); d != "" {
		t.Errorf("User (-want +got):\n%s", d)
	}

	// The accounts are in the run history's database: they outlive the process.
	s.Close()
	s = openStore(t, dir, c)
	if us, err = s.Users(ctx); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, us); d != "" {
		t.Errorf("Users after reopening (-want +got):\n%s", d)
	}
	if _, err := s.Authenticate(ctx, "bob", bobPW); err != nil {
		t.Errorf("bob after reopening: %v", err)
	}
}

// phc is the format of a hash as stored: 16 bytes of salt, 32 of key.
var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashRoundTrip(t *testing.T) {
	ctx := t.Context()
	h1, err := hashPassword(ctx, annPW)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := hashPassword(ctx, annPW)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{h1, h2} {
		if !phc.MatchString(h) {
			t.Errorf("hash %q is not in the PHC format of argon2id with OWASP's parameters", h)
		}
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	p, salt, key, err := decodeHash(h1)
	if err != nil {
		t.Fatal(err)
	}
	if p != defaultParams || len(salt) != saltLen || len(key) != keyLen {
		t.Errorf("decoded %+v, %d-byte salt, %d-byte key", p, len(salt), len(key))
	}
	if encodeHash(p, salt, key) != h1 {
		t.Error("encoding the decoded hash does not give it back")
	}

	for _, tc := range []struct {
		name, hash, pw string
		want           bool
	}{
		{"right", h1, annPW, true},
		{"wrong", h1, bobPW, false},
		{"one character off", h1, annPW[:len(annPW)-1] + "X", false},
		{"the dummy", dummyHash, annPW, false},
		// Made by the reference implementation (Debian's argon2 command):
		// echo -n 'correct horse battery staple' | argon2 ycm-onboard-salt -id -t 2 -k 19456 -p 1 -l 32 -e
		{"reference", "$argon2id$v=19$m=19456,t=2,p=1$eWNtLW9uYm9hcmQtc2FsdA$HcZo2l+p5jEhgfZJYTiwuM2CRyuWx2FWgnh2tt/lV3M", "correct horse battery staple", true},
		{"reference, wrong", "$argon2id$v=19$m=19456,t=2,p=1$eWNtLW9uYm9hcmQtc2FsdA$HcZo2l+p5jEhgfZJYTiwuM2CRyuWx2FWgnh2tt/lV3M", "correct horse battery stapler", false},
		// Other parameters, read from the string: -t 3 -k 8192 -p 2
		{"reference, other parameters", "$argon2id$v=19$m=8192,t=3,p=2$eWNtLW9uYm9hcmQtc2FsdA$NVoBbluMxRa0zWUf4CXCEwhxLLh2AxjFDF58AJEXgCk", "correct horse battery staple", true},
	} {
		got, err := verifyPassword(ctx, tc.hash, tc.pw)
		if err != nil || got != tc.want {
			t.Errorf("%s: verifyPassword = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}

	salt16 := "eWNtLW9uYm9hcmQtc2FsdA"
	key32 := "HcZo2l+p5jEhgfZJYTiwuM2CRyuWx2FWgnh2tt/lV3M"
	for _, bad := range []string{
		"",
		annPW,
		"$argon2i$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32,
		"$argon2id$v=16$m=19456,t=2,p=1$" + salt16 + "$" + key32,
		"$argon2id$v=19$t=2,m=19456,p=1$" + salt16 + "$" + key32,
		"$argon2id$v=19$m=19456,t=0,p=1$" + salt16 + "$" + key32,
		"$argon2id$v=19$m=19456,t=2,p=0$" + salt16 + "$" + key32,
		"$argon2id$v=19$m=4,t=2,p=1$" + salt16 + "$" + key32,
		"$argon2id$v=19$m=99999999,t=2,p=1$" + salt16 + "$" + key32,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "=$" + key32,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$",
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt16,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt16 + "$" + key32 + "$x",
	} {
		ok, err := verifyPassword(ctx, bad, annPW)
		if ok || !errors.Is(err, errBadHash) {
			t.Errorf("verifyPassword(%q) = %v, %v; want errBadHash", bad, ok, err)
		}
		if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("the error %q quotes the hash", err)
		}
	}
}

// TestStoredHashIsNotThePassword reads the row as stored.
func TestStoredHashIsNotThePassword(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock(t0))
	ctx := t.Context()
	for _, name := range []string{"ann", "bob"} {
		if err := s.AddUser(ctx, name, RoleApprover, annPW); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := s.conn.QueryContext(ctx, `SELECT * FROM users`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	hashes := map[string]bool{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			var text string
			switch v := v.(type) {
			case string:
				text = v
			case []byte:
				text = string(v)
			}
			if strings.Contains(text, annPW) || strings.Contains(text, "password-of") {
				t.Errorf("column %s holds the password: %q", cols[i], text)
			}
			if cols[i] == "password_hash" {
				if !phc.MatchString(text) {
					t.Errorf("password_hash %q is not an argon2id PHC string", text)
				}
				hashes[text] = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(hashes) != 2 {
		t.Errorf("two accounts with one password have %d distinct hashes, want 2", len(hashes))
	}
}

// TestAuthenticateSpendsOneHash: an unknown name costs what a wrong password does, so
// the time taken does not tell whether the name exists.
func TestAuthenticateSpendsOneHash(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock(t0))
	ctx := t.Context()
	if err := s.AddUser(ctx, "ann", RoleAdmin, annPW); err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		calls int
		mem   []uint32
	)
	real := idKey
	t.Cleanup(func() { idKey = real })
	idKey = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		mu.Lock()
		calls++
		mem = append(mem, memory)
		mu.Unlock()
		return real(password, salt, time, memory, threads, keyLen)
	}
	for _, tc := range []struct{ name, pw string }{
		{"ann", annPW},
		{"ann", bobPW},
		{"carol", annPW},
		{"not a name", annPW},
	} {
		calls, mem = 0, nil
		_, err := s.Authenticate(ctx, tc.name, tc.pw)
		if calls != 1 || mem[0] != defaultParams.memory {
			t.Errorf("Authenticate(%s) computed %d hashes with memory %v (%v); want 1 with %d KiB", tc.name, calls, mem, err, defaultParams.memory)
		}
	}
}

// TestUsersConcurrent runs logins and changes at once; the race detector watches.
func TestUsersConcurrent(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock(t0))
	ctx := t.Context()
	if err := s.AddUser(ctx, "ann", RoleAdmin, annPW); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			switch i {
			case 0:
				_, errs[i] = s.Authenticate(ctx, "ann", annPW)
			case 1:
				errs[i] = s.AddUser(ctx, "bob", RoleUploader, bobPW)
			case 2:
				_, errs[i] = s.Users(ctx)
			case 3:
				errs[i] = s.SetRole(ctx, "ann", RoleAdmin)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
}

// TestAuthenticateCancelled: a login waiting for a hash slot gives up with its context.
func TestAuthenticateCancelled(t *testing.T) {
	s := openStore(t, t.TempDir(), newClock(t0))
	for range cap(hashSlots) {
		hashSlots <- struct{}{}
	}
	t.Cleanup(func() {
		for range cap(hashSlots) {
			<-hashSlots
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Authenticate(ctx, "ann", annPW); !errors.Is(err, context.Canceled) {
		t.Errorf("Authenticate with every slot taken and a cancelled context: %v", err)
	}
}

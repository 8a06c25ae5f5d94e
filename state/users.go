package state

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Role is what a local account of the web page may do. Each role may do all that the
// roles below it may: uploader < approver < admin. What each may do is the server's to
// decide; only an admin should manage accounts.
type Role string

const (
	RoleUploader Role = "uploader"
	RoleApprover Role = "approver"
	RoleAdmin    Role = "admin"
)

var roleRank = map[Role]int{RoleUploader: 1, RoleApprover: 2, RoleAdmin: 3}

// ParseRole reads a role's name, in any case.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := roleRank[r]; !ok {
		return "", fmt.Errorf("role %q: use uploader, approver or admin", s)
	}
	return r, nil
}

// AtLeast reports whether r may do all that o may. An unknown role is below every role
// and has none below it.
func (r Role) AtLeast(o Role) bool {
	rr, ok1 := roleRank[r]
	ro, ok2 := roleRank[o]
	return ok1 && ok2 && rr >= ro
}

// User is a local account. Its password hash never leaves this package.
type User struct {
	Name            string // lower case
	Role            Role
	Created         time.Time
	PasswordChanged time.Time
}

var (
	// ErrUserExists: an account of that name (in any case) exists.
	ErrUserExists = errors.New("user exists")
	// ErrNoUser: no account has that name.
	ErrNoUser = errors.New("no such user")
	// ErrBadLogin: the name is unknown or the password wrong; which is not said.
	ErrBadLogin = errors.New("wrong name or password")
	// ErrWeakPassword: the password is refused: too short (or too long, or not text).
	ErrWeakPassword = errors.New("password refused")
	// ErrBadName: the name cannot be an account's.
	ErrBadName = errors.New("bad user name")
	// ErrLastAdmin: the change would leave accounts but no admin to manage them.
	ErrLastAdmin = errors.New("last admin")
)

// Limits of names and passwords, in characters.
const (
	MaxNameLen     = 64
	MinPasswordLen = 12
	MaxPasswordLen = 256
)

// ParseUserName trims s and checks it can name an account: 1 to 64 ASCII letters,
// digits, '.', '-', '_' or '@'. It returns the name in lower case, as stored: names
// are compared without regard to case. Non-ASCII letters are refused so that two
// names that look alike (a Cyrillic "а" for a Latin "a") cannot both exist.
func ParseUserName(s string) (string, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if name == "" || len(name) > MaxNameLen {
		return "", fmt.Errorf("user name %q: %w: use 1 to %d characters", s, ErrBadName, MaxNameLen)
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.ContainsRune(".-_@", c)) {
			return "", fmt.Errorf("user name %q: %w: use only letters a to z, digits, '.', '-', '_' and '@'", s, ErrBadName)
		}
	}
	return name, nil
}

// CheckPassword says whether a password may be set: 12 to 256 characters of UTF-8.
// Its error wraps ErrWeakPassword and never holds the password.
func CheckPassword(password string) error {
	if !utf8.ValidString(password) {
		return fmt.Errorf("%w: it is not valid UTF-8 text", ErrWeakPassword)
	}
	switch n := utf8.RuneCountInString(password); {
	case n < MinPasswordLen:
		return fmt.Errorf("%w: use at least %d characters", ErrWeakPassword, MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Errorf("%w: use at most %d characters", ErrWeakPassword, MaxPasswordLen)
	}
	return nil
}

// AddUser adds an account; ErrUserExists if one of that name (in any case) exists.
func (s *Store) AddUser(ctx context.Context, name string, role Role, password string) error {
	n, err := ParseUserName(name)
	if err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	if _, ok := roleRank[role]; !ok {
		return fmt.Errorf("add user %s: role %q: use uploader, approver or admin", n, role)
	}
	if err := CheckPassword(password); err != nil {
		return fmt.Errorf("add user %s: %w", n, err)
	}
	hash, err := hashPassword(ctx, password)
	if err != nil {
		return fmt.Errorf("add user %s: %w", n, err)
	}
	now := formatTime(s.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.conn.ExecContext(context.WithoutCancel(ctx), `
		INSERT INTO users (name, role, password_hash, created, password_changed) VALUES (?1, ?2, ?3, ?4, ?4)
		ON CONFLICT (name) DO NOTHING`, n, string(role), hash, now)
	if err == nil {
		err = changedRow(res, ErrUserExists)
	}
	if err != nil {
		return fmt.Errorf("add user %s: %w", n, err)
	}
	return nil
}

// SetPassword replaces an account's password; the old one stops working.
func (s *Store) SetPassword(ctx context.Context, name, password string) error {
	n := normName(name)
	if err := CheckPassword(password); err != nil {
		return fmt.Errorf("set password of %s: %w", n, err)
	}
	hash, err := hashPassword(ctx, password)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", n, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.conn.ExecContext(context.WithoutCancel(ctx),
		`UPDATE users SET password_hash = ?2, password_changed = ?3 WHERE name = ?1`, n, hash, formatTime(s.now()))
	if err == nil {
		err = changedRow(res, ErrNoUser)
	}
	if err != nil {
		return fmt.Errorf("set password of %s: %w", n, err)
	}
	return nil
}

// SetRole changes an account's role. It refuses with ErrLastAdmin to demote the last
// admin; ForceSetRole does not.
func (s *Store) SetRole(ctx context.Context, name string, role Role) error {
	return s.setRole(ctx, name, role, false)
}

// ForceSetRole is SetRole even when it leaves no admin.
func (s *Store) ForceSetRole(ctx context.Context, name string, role Role) error {
	return s.setRole(ctx, name, role, true)
}

// RemoveUser removes an account. It refuses with ErrLastAdmin to remove the last
// admin; ForceRemoveUser does not.
func (s *Store) RemoveUser(ctx context.Context, name string) error {
	return s.removeUser(ctx, name, false)
}

// ForceRemoveUser is RemoveUser even when it leaves no admin.
func (s *Store) ForceRemoveUser(ctx context.Context, name string) error {
	return s.removeUser(ctx, name, true)
}

// keepsAdmin is true for a row whose change leaves an admin: the row is no admin, or
// another admin exists. Within the one statement it guards, the check and the write
// cannot be split by another writer.
const keepsAdmin = `(role <> 'admin' OR EXISTS (SELECT 1 FROM users o WHERE o.role = 'admin' AND o.name <> users.name))`

func (s *Store) setRole(ctx context.Context, name string, role Role, force bool) error {
	n := normName(name)
	if _, ok := roleRank[role]; !ok {
		return fmt.Errorf("set role of %s: role %q: use uploader, approver or admin", n, role)
	}
	guard := "1"
	if !force && role != RoleAdmin {
		guard = keepsAdmin
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	res, err := s.conn.ExecContext(ctx, `UPDATE users SET role = ?2 WHERE name = ?1 AND `+guard, n, string(role))
	if err == nil {
		err = changedRow(res, nil)
	}
	if err == errNoRow {
		err = s.whyNotLocked(ctx, n)
	}
	if err != nil {
		return fmt.Errorf("set role of %s: %w", n, err)
	}
	return nil
}

func (s *Store) removeUser(ctx context.Context, name string, force bool) error {
	n := normName(name)
	guard := "1"
	if !force {
		guard = keepsAdmin
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	res, err := s.conn.ExecContext(ctx, `DELETE FROM users WHERE name = ?1 AND `+guard, n)
	if err == nil {
		err = changedRow(res, nil)
	}
	if err == errNoRow {
		err = s.whyNotLocked(ctx, n)
	}
	if err != nil {
		return fmt.Errorf("remove user %s: %w", n, err)
	}
	return nil
}

// whyNotLocked says why a guarded change of name touched no row: ErrNoUser, or
// ErrLastAdmin. s.mu is held.
func (s *Store) whyNotLocked(ctx context.Context, name string) error {
	var exists bool
	if err := s.conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE name = ?)`, name).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return ErrNoUser
	}
	return fmt.Errorf("%w: %s is the only admin", ErrLastAdmin, name)
}

var errNoRow = errors.New("no row changed")

// changedRow is nil when res changed a row, else none (or errNoRow when none is nil).
func changedRow(res sql.Result, none error) error {
	n, err := res.RowsAffected()
	switch {
	case err != nil:
		return err
	case n > 0:
		return nil
	case none != nil:
		return none
	}
	return errNoRow
}

const userColumns = `name, role, created, password_changed`

// Users returns every account, by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows, err := s.conn.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	defer rows.Close()
	var us []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("read users: %w", err)
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	return us, nil
}

// User returns the account of that name (in any case); ErrNoUser if there is none.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	n := normName(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := scanUser(s.conn.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, n))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNoUser
	}
	if err != nil {
		return User{}, fmt.Errorf("read user %s: %w", n, err)
	}
	return u, nil
}

// HasAdmin reports whether any account is an admin.
func (s *Store) HasAdmin(ctx context.Context) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ok bool
	if err := s.conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')`).Scan(&ok); err != nil {
		return false, fmt.Errorf("read users: %w", err)
	}
	return ok, nil
}

// Authenticate returns the account whose name and password these are. For an unknown
// name and for a wrong password it returns ErrBadLogin itself, unwrapped, after the
// same work (one hash), so neither the error nor the time taken tells which.
func (s *Store) Authenticate(ctx context.Context, name, password string) (User, error) {
	if len(password) > 4*MaxPasswordLen {
		return User{}, ErrBadLogin // not a password that can be set; nothing to hash
	}
	n := normName(name)
	var hash string
	s.mu.Lock()
	u, err := scanUser(s.conn.QueryRowContext(ctx,
		`SELECT `+userColumns+`, password_hash FROM users WHERE name = ?`, n), &hash)
	s.mu.Unlock()
	known := err == nil
	if errors.Is(err, sql.ErrNoRows) {
		hash = dummyHash
	} else if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	ok, err := verifyPassword(ctx, hash, password)
	if err != nil {
		return User{}, fmt.Errorf("authenticate %s: %w", n, err)
	}
	if !ok || !known {
		return User{}, ErrBadLogin
	}
	return u, nil
}

func normName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func scanUser(row interface{ Scan(...any) error }, more ...any) (User, error) {
	var (
		u                User
		role             string
		created, changed sql.NullString
	)
	if err := row.Scan(append([]any{&u.Name, &role, &created, &changed}, more...)...); err != nil {
		return User{}, err
	}
	var err error
	if u.Role, err = ParseRole(role); err != nil {
		return User{}, err
	}
	if u.Created, err = parseTime(created); err != nil {
		return User{}, err
	}
	if u.PasswordChanged, err = parseTime(changed); err != nil {
		return User{}, err
	}
	return u, nil
}

// argon2idParams are the cost of a hash. New hashes use OWASP's recommendation for
// argon2id (19 MiB, 2 passes, 1 lane); a stored hash is verified with its own.
type argon2idParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

var defaultParams = argon2idParams{memory: 19 * 1024, time: 2, threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// dummyHash is verified against when the name is unknown, so that a wrong name costs
// what a wrong password does. Nothing hashes to it: its key is zeros.
var dummyHash = encodeHash(defaultParams, make([]byte, saltLen), make([]byte, keyLen))

// hashSlots bounds the hashes computed at once: each holds its memory parameter (19
// MiB) until done, and a burst of logins must not exhaust the machine's memory.
var hashSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// idKey derives a key; tests count its calls.
var idKey = argon2.IDKey

func argon2id(ctx context.Context, password string, salt []byte, p argon2idParams, n uint32) ([]byte, error) {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-hashSlots }()
	return idKey([]byte(password), salt, p.time, p.memory, p.threads, n), nil
}

// hashPassword returns a new salted argon2id hash of password in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, salt and key in unpadded base64.
func hashPassword(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key, err := argon2id(ctx, password, salt, defaultParams, keyLen)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return encodeHash(defaultParams, salt, key), nil
}

func encodeHash(p argon2idParams, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errBadHash never quotes the hash: a message may reach a log.
var errBadHash = errors.New("stored password hash is not an argon2id hash this program can read")

// decodeHash reads a PHC string written by encodeHash, with any sane parameters.
func decodeHash(s string) (argon2idParams, []byte, []byte, error) {
	var p argon2idParams
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errBadHash
	}
	params := strings.Split(f[3], ",")
	if len(params) != 3 {
		return p, nil, nil, errBadHash
	}
	var v [3]uint64
	for i, k := range []string{"m", "t", "p"} {
		num, ok := strings.CutPrefix(params[i], k+"=")
		x, err := strconv.ParseUint(num, 10, 32)
		if !ok || err != nil {
			return p, nil, nil, errBadHash
		}
		v[i] = x
	}
	p = argon2idParams{memory: uint32(v[0]), time: uint32(v[1]), threads: uint8(v[2])}
	// Bounds keep a tampered row from making a login take minutes or gigabytes.
	if v[2] < 1 || v[2] > 64 || v[1] < 1 || v[1] > 64 || v[0] < 8*v[2] || v[0] > 1<<21 {
		return p, nil, nil, errBadHash
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(f[4])
	key, err2 := base64.RawStdEncoding.DecodeString(f[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(salt) > 64 || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// verifyPassword reports whether password hashes to the stored PHC string, with the
// parameters the string holds; the comparison takes the same time wherever it differs.
func verifyPassword(ctx context.Context, stored, password string) (bool, error) {
	p, salt, key, err := decodeHash(stored)
	if err != nil {
		return false, err
	}
	got, err := argon2id(ctx, password, salt, p, uint32(len(key)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// Package control is the daemon's control socket: a unix socket, mode
// 0600, on which `inosync status`, `inosync reload` and `inosync resync`
// ask the running daemon. Each connection carries one request and one
// response, each a line of JSON. A client that is slow or never reads
// holds up only its own connection.
package control

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/inosync/inosync/cmd/inosync/status"
)

// The commands a Request may carry.
const (
	CmdStatus = "status"
	CmdReload = "reload"
	CmdResync = "resync"
)

// Request is what a client asks.
type Request struct {
	Command string `json:"command"`
	Source  string `json:"source,omitempty"` // resync: the tree's source; "" = every tree
}

// Response is the daemon's answer.
type Response struct {
	OK      bool           `json:"ok"`
	Error   string         `json:"error,omitempty"`   // what went wrong, in words (a config error is located)
	Message string         `json:"message,omitempty"` // what was done
	Status  *status.Report `json:"status,omitempty"`
}

// ioTimeout bounds reading a request and writing a response.
const ioTimeout = 10 * time.Second

// SocketPath is where the control socket of the daemon running config
// file lives: override when set (control_socket), else in
// $RUNTIME_DIRECTORY (the first of its paths) or /run/inosync, named
// after the config file and a digest of its absolute path, so that two
// instances never share one.
func SocketPath(config, override string) string {
	if override != "" {
		return override
	}
	dir := "/run/inosync"
	if rd := os.Getenv("RUNTIME_DIRECTORY"); rd != "" {
		dir, _, _ = strings.Cut(rd, ":")
	}
	abs, err := filepath.Abs(config)
	if err != nil {
		abs = config
	}
	sum := sha256.Sum256([]byte(abs))
	name := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
	return filepath.Join(dir, name+"-"+hex.EncodeToString(sum[:4])+".sock")
}

// Handler answers one request. It runs on the connection's goroutine.
type Handler func(ctx context.Context, req Request) Response

// Server serves the control socket.
type Server struct {
	ln   *net.UnixListener
	path string
}

// Listen creates the socket at path, mode 0600, making its directory
// (0755) if needed. A socket file left by a daemon that is gone is
// replaced; one that a running daemon answers on is not.
func Listen(path string) (*Server, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("control socket directory: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		_ = c.Close()
		return nil, fmt.Errorf("another inosync already answers on %s (the same config running twice?)", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("control socket: removing the stale %s: %w", path, err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return &Server{ln: ln, path: path}, nil
}

// Path is where the socket is.
func (s *Server) Path() string { return s.path }

// Serve answers connections with h until ctx ends; then it closes the
// socket (removing its file) and returns.
func (s *Server) Serve(ctx context.Context, h Handler) {
	go func() {
		<-ctx.Done()
		_ = s.ln.Close()
	}()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and the like: do not spin
			continue
		}
		go serveConn(ctx, c, h)
	}
}

// serveConn answers the one request of a connection.
func serveConn(ctx context.Context, c *net.UnixConn, h Handler) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	var resp Response
	if err := allowed(c); err != nil {
		resp = Response{Error: err.Error()}
	} else {
		line, err := bufio.NewReader(c).ReadBytes('\n')
		var req Request
		if err == nil {
			err = json.Unmarshal(line, &req)
		}
		if err != nil {
			resp = Response{Error: fmt.Sprintf("bad request: %v", err)}
		} else {
			resp = h(ctx, req)
		}
	}
	b, _ := json.Marshal(resp)
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	_, _ = c.Write(append(b, '\n'))
}

// allowed lets in root and the daemon's own user: the socket's mode
// already keeps others out; this holds if the mode is changed.
func allowed(c *net.UnixConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if cerr != nil {
		return cerr
	}
	if cred.Uid != 0 && int(cred.Uid) != os.Getuid() {
		return fmt.Errorf("user %d may not control this inosync: only root and the user it runs as may", cred.Uid)
	}
	return nil
}

// ErrNoDaemon means that no daemon answered on the socket.
var ErrNoDaemon = errors.New("no inosync daemon answers")

// Call sends req to the daemon on the socket at path and returns its
// response. It waits at most timeout for the whole exchange.
func Call(path string, req Request, timeout time.Duration) (Response, error) {
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return Response{}, fmt.Errorf("%s: permission denied: the control socket is only for root and the user inosync runs as (try sudo)", path)
		}
		return Response{}, fmt.Errorf("%w on %s: %v", ErrNoDaemon, path, unwrapSyscall(err))
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	b, _ := json.Marshal(req)
	if _, err := c.Write(append(b, '\n')); err != nil {
		return Response{}, fmt.Errorf("%w on %s: %v", ErrNoDaemon, path, err)
	}
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		return Response{}, fmt.Errorf("%w on %s: no answer: %v", ErrNoDaemon, path, err)
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return Response{}, fmt.Errorf("%s: an answer that is not inosync's: %v", path, err)
	}
	return resp, nil
}

// unwrapSyscall returns the system's own error inside a net error
// ("connection refused", "no such file or directory").
func unwrapSyscall(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

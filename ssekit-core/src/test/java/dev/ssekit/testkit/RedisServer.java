package dev.ssekit.testkit;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} for tests (Debian's package; {@code bin/test} installs it): on a free
 * loopback port, with its data in a directory of its own and the append-only file forced on every
 * write ({@code appendfsync always}), so a restart, even after {@code kill -9}, keeps every
 * acknowledged write. {@link #restart()} comes back on the same port.
 */
public final class RedisServer implements AutoCloseable {

    private final Path dir;
    private final int port;
    private Process process;

    private RedisServer(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /**
     * Starts one and waits until it answers PING.
     *
     * @param dir an empty directory for its data
     * @return the running server
     * @throws IOException if it cannot be started
     */
    public static RedisServer start(Path dir) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        RedisServer r = new RedisServer(dir, port);
        r.launch();
        return r;
    }

    /**
     * The URI for clients.
     *
     * @return {@code redis://127.0.0.1:PORT}
     */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /**
     * The port.
     *
     * @return the port
     */
    public int port() {
        return port;
    }

    /**
     * Stops it with SIGKILL (no shutdown save) and waits for the process to end.
     *
     * @throws InterruptedException if interrupted
     */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /**
     * Starts it again on the same port with the same data, after {@link #kill()}.
     *
     * @throws IOException if it does not come back
     */
    public void restart() throws IOException {
        launch();
    }

    /**
     * Sends one command in RESP and returns the first reply line (e.g. {@code +PONG}, {@code :3}).
     *
     * @param args the command and its arguments
     * @return the reply's first line
     * @throws IOException if the server cannot be reached
     */
    public String command(String... args) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(5000);
            StringBuilder b = new StringBuilder("*" + args.length + "\r\n");
            for (String a : args) {
                b.append('$').append(a.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
            }
            s.getOutputStream().write(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int c; (c = in.read()) >= 0 && c != '\n';) {
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            return line.toString();
        }
    }

    private void launch() throws IOException {
        Path binary = Path.of(System.getenv().getOrDefault("REDIS_SERVER", "/usr/bin/redis-server"));
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException("redis-server not found at " + binary
                    + " (bin/test installs Debian's redis-server; or set REDIS_SERVER)");
        }
        process = new ProcessBuilder(List.of(binary.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--dir", dir.toString(), "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                "--daemonize", "no", "--logfile", dir.resolve("redis.log").toString()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        boolean up;
        try {
            // until it answers, or stops: a port already taken or a bad option ends it at once
            up = await("redis-server answering PING").atMost(java.time.Duration.ofSeconds(20))
                    .pollInterval(java.time.Duration.ofMillis(20))
                    .until(() -> process.isAlive() ? pings() : Boolean.FALSE, answered -> answered || !process.isAlive());
        } catch (org.awaitility.core.ConditionTimeoutException timeout) {
            up = false;
        }
        if (up) {
            return;
        }
        String log = Files.exists(dir.resolve("redis.log")) ? Files.readString(dir.resolve("redis.log")) : "(no log)";
        throw new IOException("redis-server did not answer PING on port " + port + "; its log: " + log);
    }

    private boolean pings() {
        try {
            return command("PING").equals("+PONG");
        } catch (IOException notYet) {
            return false; // still starting (or still loading the append-only file)
        }
    }

    /** Stops it (SIGKILL: tests need no save) and waits up to 10 s. */
    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Reads the value of one field from {@code INFO commandstats}: the calls of {@code command}.
     *
     * @param command lower-case command name, e.g. {@code evalsha}
     * @return how many times it was called
     * @throws IOException if the server cannot be reached
     */
    public long calls(String command) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write("*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n".getBytes(US_ASCII));
            InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            for (int c; (c = in.read()) != '\n';) {
                head.append((char) c);
            }
            int n = Integer.parseInt(head.toString().trim().substring(1));
            String body = new String(in.readNBytes(n), US_ASCII);
            for (String line : body.split("\r\n")) {
                if (line.startsWith("cmdstat_" + command + ":calls=")) {
                    return Long.parseLong(line.substring(line.indexOf('=') + 1, line.indexOf(',')));
                }
            }
            return 0;
        }
    }
}

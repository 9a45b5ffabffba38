package dev.ssekit.testkit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Redis primary, one replica and three {@code redis-sentinel} processes (Debian's packages) on free
 * loopback ports, each with its files in a directory of its own: the sentinels watch the primary as
 * {@link #MASTER}, agree with a quorum of 2, call it down after 1 s and give a failover 5 s. The
 * primary and the replica keep an append-only file forced on every write. {@link #close()} kills them
 * all. For the Redis tests ({@code RedisSentinelTest}) and the hub's Sentinel drill ({@code
 * HubSentinelDrillTest}); {@code bin/test} installs both packages. Not thread-safe.
 */
public final class SentinelCluster implements AutoCloseable {

    /** The name the sentinels know the primary by. */
    public static final String MASTER = "ssekit-primary";

    private final List<Process> processes = new ArrayList<>();
    private Process primary;
    private final int primaryPort;
    private Process replica;
    private final int replicaPort;
    private final List<Integer> sentinelPorts = new ArrayList<>();

    private SentinelCluster() throws IOException {
        primaryPort = freePort();
        replicaPort = freePort();
    }

    private void launch(Path dir) throws IOException {
        primary = server(dir.resolve("primary"), primaryPort);
        waitFor("the primary answering PING", () -> command(primaryPort, "PING").equals("+PONG"));
        replica = server(dir.resolve("replica"), replicaPort, "--replicaof", "127.0.0.1", Integer.toString(primaryPort));
        waitFor("the replica in sync", () -> info(replicaPort, "replication").contains("master_link_status:up"));
        for (int i = 0; i < 3; i++) {
            int port = freePort();
            Path d = Files.createDirectories(dir.resolve("sentinel" + i));
            Path conf = d.resolve("sentinel.conf");
            Files.writeString(conf, "port " + port + "\nbind 127.0.0.1\ndir " + d + "\n"
                    + "sentinel monitor " + MASTER + " 127.0.0.1 " + primaryPort + " 2\n"
                    + "sentinel down-after-milliseconds " + MASTER + " 1000\n"
                    + "sentinel failover-timeout " + MASTER + " 5000\n"
                    + "sentinel parallel-syncs " + MASTER + " 1\n", UTF_8);
            processes.add(new ProcessBuilder(List.of("redis-sentinel", conf.toString(), "--logfile", d.resolve("log").toString()))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
            sentinelPorts.add(port);
        }
        // each sentinel knows the other two and the replica: a failover can be agreed on
        for (int port : sentinelPorts) {
            waitFor("sentinel " + port + " seeing its peers and the replica", () -> {
                String master = info(port, "sentinel");
                return master.contains("sentinels=3") && master.contains("slaves=1");
            });
        }
    }

    /**
     * Starts the five processes and waits (up to 30 s a step) until a failover could happen.
     *
     * @param dir an empty directory for their files
     * @return the running cluster
     * @throws IOException if a process cannot be started
     */
    public static SentinelCluster start(Path dir) throws IOException {
        SentinelCluster c = new SentinelCluster();
        try {
            c.launch(dir);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /**
     * The {@code redis-sentinel://} URI with every sentinel and the master's name, in the form the hub documents.
     *
     * @return {@code redis-sentinel://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/ssekit-primary}
     */
    public String uri() {
        StringBuilder b = new StringBuilder("redis-sentinel://");
        for (int i = 0; i < sentinelPorts.size(); i++) {
            b.append(i == 0 ? "" : ",").append("127.0.0.1:").append(sentinelPorts.get(i));
        }
        return b.append('/').append(MASTER).toString();
    }

    /**
     * The first primary's port.
     *
     * @return the port
     */
    public int primaryPort() {
        return primaryPort;
    }

    /**
     * The first replica's port.
     *
     * @return the port
     */
    public int replicaPort() {
        return replicaPort;
    }

    /**
     * SIGKILL of the primary, waiting up to 10 s for its end.
     *
     * @throws InterruptedException if interrupted
     */
    public void killPrimary() throws InterruptedException {
        primary.destroyForcibly();
        primary.waitFor(10, TimeUnit.SECONDS);
    }

    /**
     * Starts the killed primary again on its port with its files; the sentinels make it a replica of
     * the promoted one.
     *
     * @param dir the directory given to {@link #start}
     * @throws IOException if it cannot be started
     */
    public void restartPrimary(Path dir) throws IOException {
        primary = server(dir.resolve("primary"), primaryPort);
    }

    /**
     * SIGKILL of the replica, waiting up to 10 s for its end.
     *
     * @throws InterruptedException if interrupted
     */
    public void killReplica() throws InterruptedException {
        replica.destroyForcibly();
        replica.waitFor(10, TimeUnit.SECONDS);
    }

    /** Waits (up to 30 s) until the sentinels have made the replica the primary. */
    public void awaitPromotion() {
        waitFor("the replica promoted", () -> info(replicaPort, "replication").contains("role:master"));
    }

    private Process server(Path d, int port, String... more) throws IOException {
        Files.createDirectories(d);
        List<String> cmd = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--dir", d.toString(), "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no",
                "--logfile", d.resolve("redis.log").toString()));
        cmd.addAll(List.of(more));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        processes.add(p);
        return p;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private interface Check {
        boolean ok() throws IOException;
    }

    private static void waitFor(String what, Check check) {
        await(what).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            try {
                return check.ok();
            } catch (IOException notYet) {
                return false;
            }
        });
    }

    /**
     * One command's first reply line.
     *
     * @param port the server's port
     * @param args the command and its arguments
     * @return the first line of the reply
     * @throws IOException if the server cannot be reached
     */
    public static String command(int port, String... args) throws IOException {
        try (Socket s = connect(port)) {
            s.getOutputStream().write(resp(args));
            return line(s.getInputStream());
        }
    }

    /**
     * {@code INFO section}'s text.
     *
     * @param port the server's port
     * @param section the section, e.g. {@code replication}
     * @return the text
     * @throws IOException if the server cannot be reached
     */
    public static String info(int port, String section) throws IOException {
        try (Socket s = connect(port)) {
            s.getOutputStream().write(resp("INFO", section));
            InputStream in = s.getInputStream();
            String head = line(in);
            if (!head.startsWith("$")) {
                return head;
            }
            return new String(in.readNBytes(Integer.parseInt(head.substring(1))), UTF_8);
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        s.setSoTimeout(5000);
        return s;
    }

    private static byte[] resp(String... args) {
        StringBuilder b = new StringBuilder("*" + args.length + "\r\n");
        for (String a : args) {
            b.append('$').append(a.getBytes(UTF_8).length).append("\r\n").append(a).append("\r\n");
        }
        return b.toString().getBytes(UTF_8);
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c; (c = in.read()) >= 0 && c != '\n';) {
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

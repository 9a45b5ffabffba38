package dev.ssekit.testkit;

import dev.ssekit.Broadcaster;
import dev.ssekit.SseMessage;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Drives a subscriber whose client does not read until one of its writes can never complete.
 *
 * <p>Decided by bytes, not by time: a client that does not read accepts at most its receive buffer
 * (and the window it advertised before that buffer was shrunk), and the server's socket at most its
 * send buffer. Once more than both, plus two events, was published, the server has bytes no write
 * can ever hand to the kernel: its writer is (or is about to be) in a write that never ends.
 */
public final class StuckWrites {

    private static final int EVENT = 1024 * 1024;

    private StuckWrites() {
    }

    /**
     * Publishes 1 MiB events to the topic until more bytes were published than the kernel can
     * take on both ends of the connection, plus two events.
     *
     * @param hub the broadcaster; its queue limit must exceed the bytes this publishes
     * @param topic a topic the client's subscription receives
     * @param client the client's socket (its receive buffer counts)
     * @throws IOException if the kernel's buffer limits cannot be read
     */
    public static void publishUntilStuck(Broadcaster hub, String topic, Socket client) throws IOException {
        long serverSend = Math.max(field("/proc/sys/net/ipv4/tcp_wmem", 2), 2 * field("/proc/sys/net/core/wmem_max", 0));
        // a receive buffer shrunk after connecting may still honour the window advertised before
        long clientReceive = 2 * Math.max(client.getReceiveBufferSize(), field("/proc/sys/net/ipv4/tcp_rmem", 1));
        long events = (serverSend + clientReceive) / EVENT + 3;
        String chunk = "z".repeat(EVENT);
        for (long i = 0; i < events; i++) {
            hub.publish(SseMessage.of(chunk), topic);
        }
    }

    /**
     * Waits (up to 30 s) until the server's writing has come to rest: no event waits in a delivery
     * group's inbox and the count of events written stays the same for 200 ms on end, with fewer
     * written than published. The write in flight then is the one that never ends. A test on a
     * manual clock calls this before it moves the clock: {@link #publishUntilStuck} returns once
     * the events are stored, and delivery runs on the server's own threads, so the stuck write could
     * otherwise start (and read the clock) only after the clock was moved.
     *
     * @param hub the broadcaster with one subscriber, after {@link #publishUntilStuck}
     */
    public static void awaitStuckWrite(Broadcaster hub) {
        long[] last = {-1};
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).during(java.time.Duration.ofMillis(200))
                .until(() -> {
                    dev.ssekit.BroadcasterStats s = hub.stats();
                    boolean still = s.delivered() == last[0];
                    last[0] = s.delivered();
                    return still && s.backlog() == 0 && s.delivered() < s.published();
                });
    }

    private static long field(String file, int index) throws IOException {
        // not Files.readString: procfs reports a size of 0, and that read stops after one byte
        try (var in = Files.newInputStream(Path.of(file))) {
            return Long.parseLong(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim().split("\\s+")[index]);
        }
    }
}

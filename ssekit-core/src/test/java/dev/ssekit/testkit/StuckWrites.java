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

    private static long field(String file, int index) throws IOException {
        // not Files.readString: procfs reports a size of 0, and that read stops after one byte
        try (var in = Files.newInputStream(Path.of(file))) {
            return Long.parseLong(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim().split("\\s+")[index]);
        }
    }
}

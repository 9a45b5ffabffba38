package dev.ssekit.client;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.ssekit.codec.SseEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's client promises, over real sockets: a slow listener slows the stream (back-pressure)
 * instead of buffering it, and open streams hold no thread each (neither platform nor virtual).
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EventSourceResourcesTest {

    /** A server writing one endless event stream to the first client, counting the bytes it got out. */
    static final class FloodServer implements AutoCloseable {
        static final long LIMIT = 256L << 20;
        final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicLong written = new AtomicLong();
        final Thread writer = Thread.ofPlatform().daemon().name("flood-writer").start(this::serve);
        volatile Socket socket;

        FloodServer() throws IOException {
        }

        URI uri() {
            return URI.create("http://127.0.0.1:" + listener.getLocalPort() + "/sse");
        }

        private void serve() {
            try (Socket s = listener.accept()) {
                socket = s;
                InputStream in = s.getInputStream();
                StringBuilder head = new StringBuilder();
                for (int b; !head.toString().endsWith("\r\n\r\n") && (b = in.read()) >= 0;) {
                    head.append((char) b);
                }
                OutputStream out = s.getOutputStream();
                out.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n".getBytes(ISO_8859_1));
                // 64 events of 1 KiB per write, each data line carrying its sequence number
                StringBuilder chunk = new StringBuilder();
                for (long n = 0; written.get() < LIMIT; ) {
                    chunk.setLength(0);
                    for (int i = 0; i < 64; i++, n++) {
                        chunk.append("data: ").append(n).append(' ').append("x".repeat(1000)).append("\n\n");
                    }
                    byte[] bytes = chunk.toString().getBytes(UTF_8);
                    out.write(bytes);
                    written.addAndGet(bytes.length);
                }
            } catch (IOException closed) {
                // the client went away: the test is over
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
            Socket s = socket;
            if (s != null) {
                s.close();
            }
        }
    }

    @Test
    void aBlockedListenerStopsTheServerWritingInsteadOfBufferingTheStream() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicLong received = new AtomicLong();
        AtomicLong outOfOrder = new AtomicLong();
        try (FloodServer server = new FloodServer()) {
            EventSource source = EventSource.builder(server.uri()).build();
            source.start(new EventSourceListener() {
                @Override
                public void onEvent(SseEvent event) {
                    long n = Long.parseLong(event.data().substring(0, event.data().indexOf(' ')));
                    if (n != received.getAndIncrement()) {
                        outOfOrder.incrementAndGet();
                    }
                    if (n == 0) {
                        try {
                            release.await(); // the listener is slow: the first event takes until released
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }

                @Override
                public void onClosed(Optional<StreamException> failure) {
                }
            });
            try {
                // the writer stalls on full socket buffers: its count stops moving
                long[] last = {-1};
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
                    long now = server.written.get();
                    boolean stalled = now > 0 && now == last[0];
                    last[0] = now;
                    return stalled;
                });
                long stalledAt = server.written.get();
                assertThat(stalledAt).as("bytes the server got out while the listener was blocked")
                        .isLessThan(FloodServer.LIMIT / 8);
                assertThat(received.get()).as("events delivered while the listener was blocked").isEqualTo(1);
                release.countDown();
                // the stream goes on, in order, past what was written while the listener was blocked
                await().atMost(Duration.ofSeconds(60)).until(() -> server.written.get() > 2 * stalledAt + (1 << 20));
                await().atMost(Duration.ofSeconds(60)).until(() -> received.get() * 1008 > stalledAt);
                assertThat(outOfOrder.get()).isZero();
            } finally {
                release.countDown();
                source.close();
            }
        }
    }

    /** The live threads, platform and virtual, from a thread dump: {@code jcmd Thread.dump_to_file}'s JSON. */
    private static List<String> threadStacks(Path dir, String name) throws IOException {
        Path file = dir.resolve(name + ".json");
        ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).dumpThreads(file.toString(),
                HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
        String json = Files.readString(file);
        // each thread is an object with "tid", then "name", then "stack": [ ... ]
        List<String> threads = new ArrayList<>();
        Matcher m = Pattern.compile("\"tid\": *\"?\\d+\"?,.*?\"stack\": *\\[(.*?)\\]", Pattern.DOTALL).matcher(json);
        while (m.find()) {
            threads.add(m.group(1));
        }
        return threads;
    }

    @Test
    void openStreamsHoldNoThreadEach(@TempDir Path dir) throws Exception {
        int streams = 200;
        try (ServerSocket listener = new ServerSocket(0, streams, InetAddress.getLoopbackAddress())) {
            List<Socket> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread acceptor = Thread.ofPlatform().daemon().start(() -> {
                try {
                    for (int i = 0; i < streams; i++) {
                        Socket s = listener.accept();
                        accepted.add(s);
                        InputStream in = s.getInputStream();
                        StringBuilder head = new StringBuilder();
                        for (int b; !head.toString().endsWith("\r\n\r\n") && (b = in.read()) >= 0;) {
                            head.append((char) b);
                        }
                        s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: hello\n\n")
                                .getBytes(ISO_8859_1));
                    }
                } catch (IOException stopped) {
                    // the test is over
                }
            });
            int before = threadStacks(dir, "before").size();
            CountDownLatch opened = new CountDownLatch(streams);
            List<EventSource> sources = new ArrayList<>();
            try {
                for (int i = 0; i < streams; i++) {
                    EventSource s = EventSource.builder(URI.create("http://127.0.0.1:" + listener.getLocalPort() + "/sse")).build();
                    sources.add(s);
                    s.start(new EventSourceListener() {
                        @Override
                        public void onEvent(SseEvent event) {
                            opened.countDown();
                        }

                        @Override
                        public void onClosed(Optional<StreamException> failure) {
                        }
                    });
                }
                assertThat(opened.await(60, TimeUnit.SECONDS)).as("every stream got its first event").isTrue();
                // every stream is open and idle now; a thread per stream would be 200 more
                List<String> during = threadStacks(dir, "during");
                long inClient = during.stream().filter(stack -> stack.contains("dev.ssekit.client")
                        && !stack.contains(EventSourceResourcesTest.class.getName())).count(); // but this test's own thread
                assertThat(during.size() - before).as("threads added for %d open streams", streams).isLessThan(streams / 10);
                assertThat(inClient).as("threads inside the client's code while every stream is idle").isZero();
            } finally {
                sources.forEach(EventSource::close);
                for (Socket s : accepted) {
                    s.close();
                }
                acceptor.interrupt();
            }
        }
    }
}

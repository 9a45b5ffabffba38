package dev.ssekit.netty;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.SseMessage;
import dev.ssekit.client.EventSource;
import dev.ssekit.testkit.TestCertificate;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #17 item 3: the client sends a non-ASCII last event id back as its UTF-8 bytes, as browsers
 * do (WHATWG HTML 9.2.4), wherever {@code java.net.http} can put those bytes on the wire (HTTP/2
 * with TLS), and never a corrupted id where it cannot (HTTP/1.1 heads are written as US-ASCII,
 * every byte above 0x7F as {@code ?}). The server records the header's bytes exactly as they
 * arrived: Netty hands each received byte over as one character.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LastEventIdUtf8Test {

    /** Two-, three- and four-byte UTF-8 sequences and ASCII. */
    static final String ID = "é☃😀-7";

    @TempDir
    static Path dir;
    static TestCertificate cert;

    @BeforeAll
    static void certificate() throws Exception {
        cert = TestCertificate.create(dir, "utf8-id");
    }

    /** The raw Last-Event-ID of each request (empty when absent) the server got, in order. */
    private final BlockingQueue<Optional<String>> received = new LinkedBlockingQueue<>();

    private NettySseServer server(boolean tls) throws Exception {
        AtomicInteger requests = new AtomicInteger();
        NettySseServer.Builder b = NettySseServer.builder().route("/sse", (request, conn) -> {
            received.add(Optional.ofNullable(request.headers().get("Last-Event-ID")));
            if (requests.getAndIncrement() == 0) {
                // one event with the id, then the stream ends: the client reconnects at once
                conn.send(SseMessage.builder().id(ID).data("a").retry(Duration.ofMillis(1)).build());
                conn.close();
            }
        });
        if (tls) {
            var context = NettySseServer.tlsContext(cert.privateKey(), List.of(cert.x509()));
            b.tls(() -> context);
        }
        return b.start();
    }

    /** Connects, receives the event, reconnects once; returns the second request's raw header. */
    private Optional<String> resumeHeader(boolean tls, HttpClient.Version version) throws Exception {
        try (NettySseServer server = server(tls);
                HttpClient client = HttpClient.newBuilder().version(version).sslContext(cert.clientContext()).build()) {
            URI uri = URI.create((tls ? "https" : "http") + "://127.0.0.1:" + server.address().getPort() + "/sse");
            EventSource source = EventSource.builder(uri).httpClient(client).build();
            try {
                source.events().findFirst(); // opens the stream; the first event arrives
                assertThat(received.poll(30, TimeUnit.SECONDS)).as("first request").isEmpty();
                Optional<String> second = received.poll(30, TimeUnit.SECONDS);
                assertThat(second).as("a reconnection came").isNotNull();
                assertThat(source.lastEventId()).isEqualTo(ID);
                return second;
            } finally {
                source.close();
            }
        }
    }

    @Test
    void overHttp2WithTlsTheIdArrivesAsItsUtf8Bytes() throws Exception {
        Optional<String> header = resumeHeader(true, HttpClient.Version.HTTP_2);
        assertThat(header).as("Last-Event-ID sent").isPresent();
        assertThat(header.get().getBytes(ISO_8859_1)).isEqualTo(ID.getBytes(UTF_8));
    }

    @Test
    void overHttp11NoCorruptedIdIsSent() throws Exception {
        assertThat(resumeHeader(true, HttpClient.Version.HTTP_1_1)).isEmpty();
    }

    @Test
    void overCleartextHttp2NoCorruptedIdIsSent() throws Exception {
        // a new cleartext connection begins with an HTTP/1.1 upgrade request, whose head is US-ASCII
        assertThat(resumeHeader(false, HttpClient.Version.HTTP_2)).isEmpty();
    }
}

package dev.ssekit.netty;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.SseMessage;
import dev.ssekit.testkit.H2cCheck;
import dev.ssekit.testkit.RawHttp;
import dev.ssekit.testkit.TestCertificate;
import io.netty.handler.ssl.SslContext;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS on Netty over real sockets: HTTP/2 or HTTP/1.1 chosen by ALPN, TLS 1.2/1.3 only, and a
 * context taken per connection (a new certificate for new connections, open ones undisturbed).
 */
@Timeout(60)
class NettyTlsTest {

    @TempDir
    static Path dir;
    static TestCertificate first;
    static TestCertificate second;

    @BeforeAll
    static void certificates() throws Exception {
        first = TestCertificate.create(dir, "first");
        second = TestCertificate.create(dir, "second");
    }

    private static SslContext context(TestCertificate c) throws Exception {
        return NettySseServer.tlsContext(c.privateKey(), List.of(c.x509()));
    }

    private static NettySseServer server(Broadcaster hub, java.util.function.Supplier<SslContext> tls) {
        return NettySseServer.builder().tls(tls).route("/sse", (request, conn) -> hub.subscribe(conn, "h2")).start();
    }

    private static URI uri(NettySseServer server) {
        return URI.create("https://127.0.0.1:" + server.address().getPort() + "/sse");
    }

    @Test
    void http2ByAlpnCarriesLiveStreamsOnOneConnection() throws Exception {
        SslContext tls = context(first);
        try (Broadcaster hub = Broadcaster.create(); NettySseServer server = server(hub, () -> tls)) {
            // every response HTTP/2, every stream gets every event, one TCP connection
            H2cCheck.run(uri(server), hub, 10, first.clientContext());
        }
    }

    @Test
    void anHttp11OnlyClientGetsHttp11ByAlpn() throws Exception {
        SslContext tls = context(first);
        try (Broadcaster hub = Broadcaster.create(); NettySseServer server = server(hub, () -> tls);
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(first.clientContext()).build()) {
            HttpResponse<InputStream> r = client.send(HttpRequest.newBuilder(uri(server)).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
            awaitConnections(hub, 1);
            hub.publish(SseMessage.of("over HTTP/1.1 ✓"), "h2");
            assertThat(nextData(r.body())).isEqualTo("over HTTP/1.1 ✓");
            r.body().close();
        }
    }

    @Test
    void newConnectionsTakeTheSuppliersCurrentContextWhileOpenOnesKeepTheirs() throws Exception {
        AtomicReference<SslContext> current = new AtomicReference<>(context(first));
        try (Broadcaster hub = Broadcaster.create(); NettySseServer server = server(hub, current::get);
                RawHttp old = RawHttp.get(first.clientContext(), server.address(), "/sse", "HTTP/1.1")) {
            assertThat(old.statusLine).isEqualTo("HTTP/1.1 200 OK");
            assertThat(old.peerCertificate()).isEqualTo(first.x509());
            current.set(context(second));
            try (RawHttp renewed = RawHttp.get(second.clientContext(), server.address(), "/sse", "HTTP/1.1")) {
                assertThat(renewed.statusLine).isEqualTo("HTTP/1.1 200 OK");
                assertThat(renewed.peerCertificate()).isEqualTo(second.x509());
                awaitConnections(hub, 2);
                hub.publish(SseMessage.of("both"), "h2");
                assertThat(old.events(1).getFirst().data()).isEqualTo("both");
                assertThat(renewed.events(1).getFirst().data()).isEqualTo("both");
            }
        }
    }

    @Test
    void aTls11HandshakeIsRefusedWithAProtocolVersionAlert() throws Exception {
        SslContext tls = context(first);
        try (Broadcaster hub = Broadcaster.create(); NettySseServer server = server(hub, () -> tls); Socket s = new Socket()) {
            s.connect(server.address(), 5000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(clientHello(0x0302)); // TLS 1.1, no supported_versions extension
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            int contentType = in.readUnsignedByte();
            assertThat(contentType).as("record type: 21 is an alert, 22 would be a ServerHello").isEqualTo(21);
            in.readUnsignedShort(); // record version
            assertThat(in.readUnsignedShort()).as("alert length").isEqualTo(2);
            assertThat(in.readUnsignedByte()).as("level: fatal").isEqualTo(2);
            assertThat(in.readUnsignedByte()).as("description: protocol_version").isEqualTo(70);
            assertThat(hub.stats().connections()).isZero();
        }
    }

    @Test
    void startRejectsUnfitContextsNamingTheSetting() throws Exception {
        SslContext tls = context(first);
        assertThatThrownBy(() -> NettySseServer.builder().tls(() -> null).route("/sse", (r, c) -> { }).start())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tls");
        assertThatThrownBy(() -> NettySseServer.builder().tls(() -> tls).http2(false).route("/sse", (r, c) -> { }).start())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tls").hasMessageContaining("http2");
        assertThatThrownBy(() -> NettySseServer.tlsContext(second.privateKey(), List.of(first.x509())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not belong to the certificate");
        assertThatThrownBy(() -> NettySseServer.tlsContext(first.privateKey(), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("chain");
    }

    /** A minimal ClientHello record: the given version, two ECDHE-AES128-SHA suites, no extensions. */
    private static byte[] clientHello(int version) {
        ByteBuffer body = ByteBuffer.allocate(43);
        body.putShort((short) version).put(new byte[32]).put((byte) 0) // random, empty session id
                .putShort((short) 4).putShort((short) 0xc009).putShort((short) 0xc013) // cipher suites
                .put((byte) 1).put((byte) 0); // compression: null
        ByteBuffer record = ByteBuffer.allocate(5 + 4 + 43);
        record.put((byte) 22).putShort((short) 0x0301).putShort((short) (4 + 43))
                .put((byte) 1).put((byte) 0).putShort((short) 43).put(body.array());
        return record.array();
    }

    private static void awaitConnections(Broadcaster hub, int n) {
        await().atMost(java.time.Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(hub.stats().connections()).as("connections").isEqualTo(n));
    }

    /** The data of the next event with data, read within 10 s. */
    private static String nextData(InputStream body) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                BufferedReader r = new BufferedReader(new InputStreamReader(body, UTF_8));
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (line.startsWith("data:")) {
                        return line.substring(5).trim();
                    }
                }
                return null;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, command -> Thread.ofVirtual().start(command)).get(10, TimeUnit.SECONDS);
    }

}

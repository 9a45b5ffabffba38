package dev.ssekit.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ssekit.SseMessage;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Issue #31: the wire bytes Netty sends an HTTP/1.0 client (close-delimited), and HTTP/1.1 (chunked, unchanged). */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class NettyHttp10Test {

    private NettySseServer server;

    @BeforeEach
    void start() {
        server = NettySseServer.builder()
                .route("/sse", (request, conn) -> {
                    conn.send(SseMessage.builder().id("1").data("hello").build());
                    conn.close();
                })
                .start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private String exchange(String request) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(server.address(), 5000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            for (int n; (n = in.read(buf)) >= 0 && all.size() < 1 << 20; ) { // to EOF: the server closes
                all.write(buf, 0, n);
            }
            return all.toString(StandardCharsets.US_ASCII);
        }
    }

    @Test
    void http10GetsACloseDelimitedBody() throws Exception {
        String wire = exchange("GET /sse HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        int split = wire.indexOf("\r\n\r\n");
        assertTrue(split > 0, wire);
        String head = wire.substring(0, split).toLowerCase(Locale.ROOT);
        String body = wire.substring(split + 4);
        assertTrue(head.startsWith("http/1.0 200 ok\r\n"), head);
        assertFalse(head.contains("transfer-encoding"), head);
        assertFalse(head.contains("content-length"), head);
        assertTrue(head.contains("\r\nconnection: close"), head);
        assertEquals("id: 1\ndata: hello\n\nevent: close\ndata: Closing the connection\n\n", body);
    }

    @Test
    void http11StaysChunked() throws Exception {
        String wire = exchange("GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        int split = wire.indexOf("\r\n\r\n");
        String head = wire.substring(0, split).toLowerCase(Locale.ROOT);
        String body = wire.substring(split + 4);
        assertTrue(head.startsWith("http/1.1 200 ok\r\n"), head);
        assertTrue(head.contains("\r\ntransfer-encoding: chunked"), head);
        assertTrue(body.endsWith("0\r\n\r\n"), body);
        assertTrue(body.contains("id: 1\ndata: hello\n\n"), body);
    }
}

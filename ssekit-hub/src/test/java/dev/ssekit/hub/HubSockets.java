package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/**
 * HTTP/1.1 by hand over a plain socket, for the tests of how the hub treats slow and hostile
 * clients ({@link HubConnectionTimeoutsTest}, {@link HubSlowClientsReviewTest}). The sockets must
 * have a read timeout of {@link #CLOSED_WITHIN_MS}, so that no read waits longer.
 */
final class HubSockets {

    /** How long a test waits for the hub to close a connection: every timeout in those tests is 1 to 3 s. */
    static final int CLOSED_WITHIN_MS = 6000;

    private HubSockets() {
    }

    /** Writes {@code text} (ISO-8859-1) and flushes. */
    static void send(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(ISO_8859_1));
        out.flush();
    }

    /** Reads one response (head and Content-Length body) and returns its head. */
    static String response(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed in the head: " + head);
            }
            head.append((char) b);
        }
        String lower = head.toString().toLowerCase(java.util.Locale.ROOT);
        int at = lower.indexOf("content-length: ");
        int length = at < 0 ? 0 : Integer.parseInt(lower.substring(at + 16, lower.indexOf("\r\n", at)).trim());
        in.readNBytes(length);
        return head.toString();
    }

    /**
     * Waits until the hub closes {@code s}: the read sees the end (or a reset); fails after
     * CLOSED_WITHIN_MS. What the hub still sends before (an HTTP/2 GOAWAY, say) is skipped.
     */
    static void closed(Socket s) throws IOException {
        try {
            while (s.getInputStream().read() >= 0) {
                // what the hub still sends
            }
        } catch (java.net.SocketTimeoutException open) {
            throw new AssertionError("the hub kept the connection open for " + CLOSED_WITHIN_MS + " ms");
        } catch (java.net.SocketException reset) {
            // closed with a reset: closed too
        }
    }
}

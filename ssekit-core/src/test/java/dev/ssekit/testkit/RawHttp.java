package dev.ssekit.testkit;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A deliberately small HTTP/1.x client over a plain socket (or a TLS socket, {@link
 * #get(javax.net.ssl.SSLContext, InetSocketAddress, String, String, String...)}), so tests see the
 * exact bytes a server sends: the status line, each header, and the body with its chunked framing
 * removed.
 */
public final class RawHttp implements AutoCloseable {
    public final Socket socket;
    private final InputStream in;
    public String statusLine;
    public final Map<String, String> headers = new LinkedHashMap<>();
    private boolean chunked;
    private int chunkLeft;
    /** A chunk's data ended; its CRLF is read only when the next byte is asked for (Jetty sends it with the next chunk). */
    private boolean chunkCrlfPending;
    private boolean bodyDone;

    private RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new java.io.BufferedInputStream(socket.getInputStream(), 64 * 1024);
    }

    /** Sends {@code GET path} with the extra header lines (already formatted) and reads the head. */
    public static RawHttp get(InetSocketAddress address, String path, String version, String... headerLines) throws IOException {
        Socket s = new Socket();
        s.connect(address, 5000);
        s.setSoTimeout(10_000);
        return send(s, path, version, headerLines);
    }

    /**
     * As {@link #get(InetSocketAddress, String, String, String...)}, over TLS: the handshake
     * (at most 10 s) checks the server's certificate against {@code tls}'s trust and its names
     * against the address, and offers ALPN {@code http/1.1} only. The server's certificate is then
     * {@link #peerCertificate()}.
     *
     * @param tls the client context, trusting the server's certificate
     * @param address the server
     * @param path the request target
     * @param version {@code HTTP/1.1} or {@code HTTP/1.0}
     * @param headerLines extra header lines, formatted
     * @return the client, its response head read
     * @throws IOException if connecting, the handshake or reading the head fails
     */
    public static RawHttp get(javax.net.ssl.SSLContext tls, InetSocketAddress address, String path, String version,
            String... headerLines) throws IOException {
        Socket plain = new Socket();
        plain.connect(address, 5000);
        plain.setSoTimeout(10_000);
        javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) tls.getSocketFactory()
                .createSocket(plain, address.getHostString(), address.getPort(), true);
        javax.net.ssl.SSLParameters params = s.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        params.setApplicationProtocols(new String[] {"http/1.1"});
        s.setSSLParameters(params);
        try {
            s.startHandshake();
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return send(s, path, version, headerLines);
    }

    /**
     * The certificate the server presented, on a TLS connection.
     *
     * @return the server's own certificate
     * @throws IllegalStateException on a plain connection
     * @throws IOException if the TLS session has no verified peer
     */
    public java.security.cert.X509Certificate peerCertificate() throws IOException {
        if (!(socket instanceof javax.net.ssl.SSLSocket tls)) {
            throw new IllegalStateException("not a TLS connection");
        }
        return (java.security.cert.X509Certificate) tls.getSession().getPeerCertificates()[0];
    }

    private static RawHttp send(Socket s, String path, String version, String... headerLines) throws IOException {
        RawHttp c = new RawHttp(s);
        StringBuilder req = new StringBuilder("GET " + path + " " + version + "\r\nHost: 127.0.0.1\r\n");
        for (String h : headerLines) {
            req.append(h).append("\r\n");
        }
        req.append("\r\n");
        s.getOutputStream().write(req.toString().getBytes(UTF_8));
        s.getOutputStream().flush();
        c.readHead();
        return c;
    }

    private void readHead() throws IOException {
        statusLine = readLine();
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            int colon = line.indexOf(':');
            headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
        chunked = "chunked".equalsIgnoreCase(headers.get("transfer-encoding"));
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                throw new IOException("connection closed in the middle of a line: " + line.toString(ISO_8859_1));
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(ISO_8859_1);
    }

    /** One byte of the body, or -1 at its end. */
    public int readBody() throws IOException {
        if (bodyDone) {
            return -1;
        }
        if (!chunked) {
            int b = in.read();
            bodyDone = b < 0;
            return b;
        }
        if (chunkLeft == 0) {
            if (chunkCrlfPending) {
                readLine();
                chunkCrlfPending = false;
            }
            String size = readLine();
            chunkLeft = Integer.parseInt(size.trim(), 16);
            if (chunkLeft == 0) {
                readLine(); // the CRLF after the last chunk
                bodyDone = true;
                return -1;
            }
        }
        int b = in.read();
        if (b < 0) {
            throw new IOException("connection closed inside a chunk");
        }
        if (--chunkLeft == 0) {
            chunkCrlfPending = true;
        }
        return b;
    }

    /**
     * Reads body bytes up to and including the next blank line (one whole event), or what is left
     * when the body ends before one.
     *
     * @throws java.io.EOFException if the body had already ended: a caller looping for events fails
     *     instead of spinning on empty strings
     */
    public String readEvent() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int prev = -1;
        int b;
        while ((b = readBody()) >= 0) {
            out.write(b);
            if (b == '\n' && prev == '\n') {
                break;
            }
            prev = b;
        }
        if (b < 0 && out.size() == 0) {
            throw new java.io.EOFException("the response body has ended");
        }
        return out.toString(UTF_8);
    }

    /**
     * Reads and parses the body until {@code n} events have been dispatched (comments skipped).
     *
     * @param n how many events
     * @return the events, in order
     * @throws IOException if the stream ends first or reading fails
     */
    public java.util.List<dev.ssekit.codec.SseEvent> events(int n) throws IOException {
        java.util.List<dev.ssekit.codec.SseEvent> got = new java.util.ArrayList<>();
        dev.ssekit.codec.SseParser parser = dev.ssekit.codec.SseParser.create(got::add);
        while (got.size() < n) {
            parser.feed(readEvent().getBytes(UTF_8));
        }
        return got;
    }

    /** Reads the body to its end. */
    public String readToEnd() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int b;
        while ((b = readBody()) >= 0) {
            out.write(b);
        }
        return out.toString(UTF_8);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

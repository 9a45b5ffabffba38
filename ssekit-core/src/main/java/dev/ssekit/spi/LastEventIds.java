package dev.ssekit.spi;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.Optional;

/**
 * The {@code Last-Event-ID} header's one rule for every adapter. Browsers send the id UTF-8 encoded
 * (WHATWG HTML 9.2.4), while HTTP servers (the JDK's, Servlet containers, Netty) hand header bytes
 * over as ISO-8859-1 characters; an empty header means no id. Stateless and thread-safe.
 */
public final class LastEventIds {

    private LastEventIds() {
    }

    /**
     * The id a request carries.
     *
     * @param raw the header value as the server decoded it (one character per byte), or null
     * @return the id decoded as UTF-8, or empty when the header is absent or empty
     */
    public static Optional<String> fromHeader(String raw) {
        return raw == null || raw.isEmpty() ? Optional.empty() : Optional.of(new String(raw.getBytes(ISO_8859_1), UTF_8));
    }

    /**
     * An id as a header value for a server that writes one byte per character.
     *
     * @param id the id
     * @return its UTF-8 bytes as ISO-8859-1 characters
     * @throws NullPointerException if {@code id} is null
     */
    public static String toHeader(String id) {
        return new String(id.getBytes(UTF_8), ISO_8859_1);
    }
}

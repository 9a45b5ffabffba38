package dev.ssekit.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The demo page served at {@code /} in demo mode: subscribe, publish, watch the events arrive. */
final class DemoPage {

    private static final String TEMPLATE = resource("demo.html");

    private DemoPage() {
    }

    /** The page with {@code token} (HTML-escaped) filled into the publisher token field. */
    static String render(String token) {
        return TEMPLATE.replace("{{PUBLISHER_TOKEN}}", token.replace("&", "&amp;").replace("\"", "&quot;")
                .replace("<", "&lt;").replace(">", "&gt;"));
    }

    /** A page kept beside this class in the jar ({@code demo.html}, {@code status.html}), as text. */
    static String resource(String name) {
        try (InputStream in = DemoPage.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the ssekit-hub jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

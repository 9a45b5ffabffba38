package dev.ssekit.hub;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The hub process's log lines (the libraries log through {@code System.Logger}, which ends in
 * {@code java.util.logging} here): one line per record on standard error, as text ({@code TIME
 * LEVEL LOGGER MESSAGE}) or as a JSON object ({@code time}, {@code level}, {@code logger}, {@code
 * message}, and {@code error} with the stack trace when there is one).
 */
final class LogFormat extends Formatter {

    private final boolean json;

    /** An epoch second and its {@link Instant#toString()} without the {@code Z}: lines of one second share it. */
    private record Second(long epochSecond, String prefix) {
    }

    private volatile Second second = new Second(Long.MIN_VALUE, "");

    LogFormat(boolean json) {
        this.json = json;
    }

    /**
     * Makes {@code format} ({@code text} or {@code json}) the root logger's only console output,
     * unless the user configured logging ({@code java.util.logging.config.file} or {@code .class}).
     */
    static void install(String format) {
        if (System.getProperty("java.util.logging.config.file") != null
                || System.getProperty("java.util.logging.config.class") != null) {
            return;
        }
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        Handler console = new ConsoleHandler();
        console.setFormatter(new LogFormat(format.equals("json")));
        root.addHandler(console);
    }

    @Override
    public String format(LogRecord r) {
        String message = formatMessage(r);
        String error = null;
        if (r.getThrown() != null) {
            StringWriter w = new StringWriter();
            r.getThrown().printStackTrace(new PrintWriter(w));
            error = w.toString();
        }
        String time = time(r.getInstant());
        if (!json) {
            // a client's bytes reach messages (a decoded path, a refused value): no control character of
            // theirs may start a forged line or reach a terminal (issue #28: log injection)
            return time + " " + r.getLevel().getName() + " " + r.getLoggerName() + " " + escaped(message, false)
                    + (error == null ? "" : "\n" + escaped(error, true)) + "\n";
        }
        StringBuilder b = new StringBuilder(128 + message.length());
        b.append("{\"time\":");
        quote(b, time);
        b.append(",\"level\":");
        quote(b, r.getLevel().getName());
        b.append(",\"logger\":");
        quote(b, String.valueOf(r.getLoggerName()));
        b.append(",\"message\":");
        quote(b, message);
        if (error != null) {
            b.append(",\"error\":");
            quote(b, error);
        }
        return b.append("}\n").toString();
    }

    /**
     * {@code t.toString()} (ISO-8601, the fraction in groups of three digits, as many as needed),
     * with the date and time of day formatted once per second rather than once per line.
     */
    String time(Instant t) {
        Second s = second;
        if (s.epochSecond() != t.getEpochSecond()) {
            String whole = Instant.ofEpochSecond(t.getEpochSecond()).toString();
            s = new Second(t.getEpochSecond(), whole.substring(0, whole.length() - 1));
            second = s;
        }
        int nano = t.getNano();
        if (nano == 0) {
            return s.prefix() + "Z";
        }
        int digits;
        int fraction;
        if (nano % 1_000_000 == 0) {
            digits = 3;
            fraction = nano / 1_000_000;
        } else if (nano % 1_000 == 0) {
            digits = 6;
            fraction = nano / 1_000;
        } else {
            digits = 9;
            fraction = nano;
        }
        StringBuilder b = new StringBuilder(s.prefix().length() + 11).append(s.prefix()).append('.');
        String f = Integer.toString(fraction);
        b.repeat('0', digits - f.length());
        return b.append(f).append('Z').toString();
    }

    /**
     * {@code s} with each C0 control character, DEL, C1 control character and line or paragraph
     * separator (U+2028, U+2029) written as {@code \\xHH} or {@code \\uHHHH}, and each backslash
     * doubled, so that an escape in the text cannot be told from one the client sent; a stack trace
     * ({@code trace}) keeps its line feeds and tabs.
     */
    static String escaped(String s, boolean trace) {
        int i = 0;
        while (i < s.length() && !special(s.charAt(i), trace)) {
            i++;
        }
        if (i == s.length()) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length() + 16).append(s, 0, i);
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!special(c, trace)) {
                b.append(c);
            } else if (c == '\\') {
                b.append("\\\\");
            } else if (c <= 0xff) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(String.format("\\u%04x", (int) c));
            }
        }
        return b.toString();
    }

    private static boolean special(char c, boolean trace) {
        if (trace && (c == '\n' || c == '\t')) {
            return false;
        }
        return c < 0x20 || c >= 0x7f && c <= 0x9f || c == '\u2028' || c == '\u2029' || c == '\\' && !trace;
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}

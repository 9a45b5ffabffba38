package dev.ssekit.testkit;


import dev.ssekit.codec.SseEvent;
import dev.ssekit.codec.SseParser;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Records everything a parser reports as a transcript of readable lines. */
public final class Recorder implements SseParser.Handler {
    public final List<String> transcript = new ArrayList<>();
    public final List<SseEvent> events = new ArrayList<>();

    /** A recorder with an empty transcript. */
    public Recorder() {
    }

    @Override
    public void onEvent(SseEvent event) {
        events.add(event);
        transcript.add(event(event.type(), event.id(), event.data()));
    }

    @Override
    public void onComment(String comment) {
        transcript.add("comment " + show(comment));
    }

    @Override
    public void onRetry(Duration delay) {
        transcript.add("retry " + delay.toMillis());
    }

    public static String event(String type, String id, String data) {
        return "event type=" + show(type) + " id=" + show(id) + " data=" + show(data);
    }

    public static String show(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n").replace("\0", "\\0") + '"';
    }
}

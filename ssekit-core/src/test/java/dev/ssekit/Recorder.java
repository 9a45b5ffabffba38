package dev.ssekit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Records everything a parser reports as a transcript of readable lines. */
final class Recorder implements SseParser.Handler {
    final List<String> transcript = new ArrayList<>();
    final List<SseEvent> events = new ArrayList<>();

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

    static String event(String type, String id, String data) {
        return "event type=" + show(type) + " id=" + show(id) + " data=" + show(data);
    }

    static String show(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n").replace("\0", "\\0") + '"';
    }
}

package dev.ssekit.examples;

// readme:reactor:start
import dev.ssekit.client.EventSource;
import dev.ssekit.codec.SseEvent;
import java.net.URI;
import java.util.List;
import reactor.adapter.JdkFlowAdapter;
import reactor.core.publisher.Flux;

public class ReactorSample {
    public static List<String> firstFive(URI uri) {
        EventSource source = EventSource.builder(uri).build();
        // demand-driven: Reactor's requests drive the reading; cancelling closes the source
        Flux<SseEvent> events = JdkFlowAdapter.flowPublisherToFlux(source.publisher());
        return events.filter(e -> e.type().equals("tick"))
                .map(e -> e.id() + ": " + e.data())
                .take(5)
                .collectList()
                .block();
    }
}
// readme:reactor:end

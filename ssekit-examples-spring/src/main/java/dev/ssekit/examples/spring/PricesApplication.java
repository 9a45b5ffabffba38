package dev.ssekit.examples.spring;

import dev.ssekit.Broadcaster;
import dev.ssekit.SseMessage;
import dev.ssekit.servlet.ServletSse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * A Spring Boot MVC application that streams through ssekit's servlet adapter instead of
 * {@code SseEmitter}: {@code GET /prices} subscribes (resuming from {@code Last-Event-ID}),
 * {@code POST /prices} publishes its body and answers the event id.
 *
 * <p>The {@link Broadcaster} comes from {@code ssekit-spring-boot-starter}, configured by the
 * {@code ssekit.*} properties in {@code application.properties}; the starter also closes it before the
 * web server's graceful shutdown, so subscribers get a final {@code shutdown} event instead of
 * holding the shutdown up, and adds its meters and an Actuator health indicator when those are present.
 */
@SpringBootApplication
public class PricesApplication {

    /** The controller. */
    @RestController
    static class PricesController {
        private final Broadcaster hub;

        PricesController(Broadcaster hub) {
            this.hub = hub;
        }

        // readme:spring:start
        @GetMapping("/prices")
        void subscribe(HttpServletRequest request, HttpServletResponse response) throws IOException {
            hub.subscribe(ServletSse.start(request, response), "prices");   // hub: the injected Broadcaster
        }
        // readme:spring:end

        @GetMapping("/prices/subscribers")
        long subscribers() {
            return hub.stats().connections();
        }

        @PostMapping("/prices")
        String publish(@RequestBody String data) {
            return hub.publish(SseMessage.builder().event("price").data(data).build(), "prices");
        }
    }

    /**
     * Starts the application (Spring Boot's defaults: port 8080).
     *
     * @param args Spring Boot arguments, e.g. {@code --server.port=9090}
     */
    public static void main(String[] args) {
        SpringApplication.run(PricesApplication.class, args);
    }
}

import HTTPServer

/// The page at `/`: pick a model and a class (or type a caption), press Generate, and watch the
/// image appear step by step. The `<img>` loads `GET /v1/jobs/new?...&stream=multipart`, so the
/// browser itself replaces the picture with every frame; a parallel SSE re-attach shows the
/// step counter. One self-contained document: no external scripts, styles or fonts.
enum DemoPage {
    static var response: HTTPResponse {
        HTTPResponse(
            status: .ok,
            headers: [
                "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache",
                // No other site may frame the page (clickjacking) or have it sniffed as another type.
                "Content-Security-Policy":
                    "default-src 'self'; img-src 'self' data: blob:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'",
                "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
            ],
            text: html)
    }

    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>enat-serve</title>
        <style>
          body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 46rem; padding: 0 1rem; color: #222; }
          h1 { font-size: 1.4rem; margin-bottom: .2rem; }
          form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: 1rem 0; }
          label { display: flex; flex-direction: column; font-size: .8rem; color: #555; }
          input, select, button { font: inherit; padding: .3rem .5rem; }
          #caption { min-width: 18rem; }
          #stage { width: 320px; height: 320px; background: #eee; border: 1px solid #ccc; display: flex; align-items: center; justify-content: center; }
          #image { width: 320px; height: 320px; image-rendering: pixelated; }
          #status { margin-top: .5rem; font-family: ui-monospace, monospace; font-size: .85rem; min-height: 1.2em; }
          .hidden { display: none; }
        </style>
        </head>
        <body>
        <h1>enat-serve</h1>
        <p>ENAT image generation on CPUs. Choose a model and a class (or a caption) and watch the sampler reveal the image step by step.</p>
        <form id="form">
          <label>Model <select id="model"></select></label>
          <label id="classField">Class <select id="class"></select></label>
          <label id="captionField" class="hidden">Caption <input id="caption" value="a red circle on a white background"></label>
          <label>Seed <input id="seed" type="number" min="0" value="1" style="width:6rem"></label>
          <label>Steps <input id="steps" type="number" min="1" max="64" style="width:4rem"></label>
          <button id="go" type="submit">Generate</button>
        </form>
        <div id="stage"><img id="image" alt="generated image"></div>
        <div id="status">loading models…</div>
        <script>
        "use strict";
        const $ = (id) => document.getElementById(id);
        let models = [];
        function selectedModel() { return models.find((m) => m.id === $("model").value); }
        function showModel() {
          const model = selectedModel();
          if (!model) return;
          const isClass = model.kind === "class";
          $("classField").classList.toggle("hidden", !isClass);
          $("captionField").classList.toggle("hidden", isClass);
          $("steps").placeholder = String(model.default_settings.steps);
          const select = $("class");
          select.textContent = "";
          (model.classes || []).forEach((name, index) => {
            const option = document.createElement("option");
            option.value = String(index);
            option.textContent = index + ": " + name.split(",")[0];
            select.appendChild(option);
          });
        }
        let current = null;
        async function generate(event) {
          if (event) event.preventDefault();
          const model = selectedModel();
          if (!model) return;
          const body = { model: model.id, seed: Number($("seed").value || 0), preview: "full" };
          if (model.kind === "class") body.class_label = Number($("class").value); else body.caption = $("caption").value;
          if ($("steps").value) body.steps = Number($("steps").value);
          // A job left running by the previous click is not wanted any more.
          if (current && !current.done) fetch("/v1/jobs/" + current.id, { method: "DELETE" }).catch(() => {});
          $("status").textContent = "submitting…";
          const response = await fetch("/v1/jobs", {
            method: "POST", headers: { "Content-Type": "application/json", "Accept": "application/json" }, body: JSON.stringify(body),
          });
          const job = await response.json();
          if (!response.ok) { $("status").textContent = "error: " + job.error.message; return; }
          current = { id: job.id, done: false, started: performance.now() };
          // The browser replaces the picture with every part of the multipart stream.
          $("image").src = "/v1/jobs/" + job.id + "/stream?stream=multipart";
          poll(current);
        }
        // Progress comes from a second, re-attached stream of the same job (NDJSON), read line by line.
        async function poll(job) {
          const response = await fetch("/v1/jobs/" + job.id + "/stream?stream=ndjson");
          const reader = response.body.getReader();
          const decoder = new TextDecoder();
          let buffered = "";
          while (current === job) {
            const { value, done } = await reader.read();
            if (done) break;
            buffered += decoder.decode(value, { stream: true });
            let newline;
            while ((newline = buffered.indexOf("\n")) >= 0) {
              const event = JSON.parse(buffered.slice(0, newline));
              buffered = buffered.slice(newline + 1);
              show(job, event);
            }
          }
          reader.cancel().catch(() => {});
        }
        function show(job, event) {
          const seconds = ((performance.now() - job.started) / 1000).toFixed(1);
          let text;
          if (event.type === "progress") {
            text = event.state + " · step " + event.step + "/" + event.steps;
            if (event.queue_position !== undefined) text += " · queue position " + event.queue_position;
          } else if (event.type === "completed") {
            text = "done · " + event.steps + " steps · seed " + event.seed;
            job.done = true;
            document.body.dataset.state = "succeeded";
          } else {
            text = "error: " + event.error.message;
            job.done = true;
            document.body.dataset.state = "failed";
          }
          $("status").textContent = text + " · " + seconds + " s";
        }
        fetch("/v1/models").then((r) => r.json()).then((list) => {
          models = list.data;
          const select = $("model");
          models.forEach((m) => {
            const option = document.createElement("option");
            option.value = m.id;
            option.textContent = m.id + " (" + m.kind + ", " + m.size + ")";
            select.appendChild(option);
          });
          showModel();
          $("status").textContent = models.length ? "ready" : "no model loaded";
          if (models.length && new URLSearchParams(location.search).has("autostart")) generate();
        }).catch((error) => { $("status").textContent = "error: " + error; });
        $("model").addEventListener("change", showModel);
        $("form").addEventListener("submit", generate);
        </script>
        </body>
        </html>
        """#
}

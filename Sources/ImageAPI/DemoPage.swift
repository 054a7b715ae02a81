import ENAT
import HTTPServer

/// The page at `/`: pick a model and a class (or type a caption), press Generate, and watch the
/// images appear step by step. Each image is one `POST /v1/jobs?stream=ndjson` read with
/// `fetch`, whose progress lines carry every step's decoded preview, so the page can send an
/// API key (`Authorization`) and cancel by aborting. Its defaults make a picture on the demo
/// models; finished images go to a gallery with their seeds and a download link. The inpainting
/// mode edits an image (uploaded, or the last one made): paint over what to regenerate (or load
/// a mask PNG), and the same job stream, sent as a multipart form, shows the masked area fill
/// in. One self-contained document: no external scripts, styles or fonts.
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

    /// The inputs' ranges are the engine's sampler limits.
    private static let limits = SamplerLimits.engine
    private static func number(_ value: Double) -> String { SamplerSettingError.format(value) }

    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>enat-serve</title>
        <style>
          body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; color: #222; }
          h1 { font-size: 1.4rem; margin-bottom: .2rem; }
          form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: 1rem 0 .3rem; }
          label { display: flex; flex-direction: column; font-size: .8rem; color: #555; }
          input, select, button { font: inherit; padding: .3rem .5rem; }
          input[type=number] { width: 5rem; }
          #caption { min-width: 20rem; }
          #seed { width: 10rem; }
          #about { font-size: .85rem; color: #555; margin: .2rem 0 1rem; }
          #stage { display: flex; flex-wrap: wrap; gap: .5rem; }
          .slot { width: 256px; }
          .slot .frame { width: 256px; height: 256px; background: #eee; border: 1px solid #ccc; }
          .slot img { width: 256px; height: 256px; image-rendering: pixelated; display: block; }
          .slot .caption { font-size: .8rem; font-family: ui-monospace, monospace; }
          .slot a { font-size: .85rem; }
          progress { width: 100%; }
          #status { margin-top: .5rem; font-family: ui-monospace, monospace; font-size: .85rem; min-height: 1.2em; }
          #gallery { display: flex; flex-wrap: wrap; gap: .3rem; margin-top: 1rem; }
          #gallery img { width: 64px; height: 64px; image-rendering: pixelated; border: 1px solid #ccc; cursor: pointer; }
          #editPanel { display: flex; flex-wrap: wrap; gap: 1rem; align-items: start; margin: .5rem 0 1rem; }
          #editor { position: relative; width: 256px; height: 256px; background: #eee; border: 1px solid #ccc; }
          #editor canvas { position: absolute; left: 0; top: 0; width: 256px; height: 256px; image-rendering: pixelated; }
          #maskCanvas { opacity: .55; cursor: crosshair; touch-action: none; }
          #editTools { display: flex; flex-direction: column; gap: .4rem; max-width: 22rem; }
          #editTools .row { display: flex; gap: .5rem; align-items: end; flex-wrap: wrap; }
          #editHint { font-size: .8rem; color: #555; margin: 0; }
          .hidden { display: none !important; }
        </style>
        </head>
        <body>
        <h1>enat-serve</h1>
        <p>ENAT image generation on CPUs. Choose a model and a class (or a caption) and watch the sampler reveal the image step by step.</p>
        <form id="form">
          <label>Mode <select id="mode"><option value="generate">Generate</option><option value="inpaint">Inpaint</option></select></label>
          <label>Model <select id="model"></select></label>
          <label id="classField">Class <select id="class"></select></label>
          <label id="captionField" class="hidden">Caption <input id="caption" value="a large red circle in the center"></label>
          <label>Seed <input id="seed" type="number" min="0" value="1"></label>
          <button id="newSeed" type="button" title="a random seed, then generate">New seed</button>
          <label>Images <input id="count" type="number" min="1" max="4" value="1"></label>
          <label>Steps <input id="steps" type="number" min="\#(limits.steps.lowerBound)" max="\#(limits.steps.upperBound)"></label>
          <label>Guidance <input id="guidance" type="number" min="\#(number(limits.guidanceScale.lowerBound))" max="\#(number(limits.guidanceScale.upperBound))" step="0.5"></label>
          <label>Mask temp. <input id="maskTemperature" type="number" min="\#(number(limits.maskTemperature.lowerBound))" max="\#(number(limits.maskTemperature.upperBound))" step="0.1"></label>
          <label>Sample temp. <input id="sampleTemperature" type="number" min="\#(number(limits.sampleTemperature.lowerBound))" max="\#(number(limits.sampleTemperature.upperBound))" step="0.1"></label>
          <label id="keyField" class="hidden">API key <input id="apiKey" type="password" autocomplete="off"></label>
          <button id="go" type="submit">Generate</button>
        </form>
        <div id="editPanel" class="hidden">
          <div id="editor"><canvas id="sourceCanvas" width="256" height="256"></canvas><canvas id="maskCanvas" width="256" height="256"></canvas></div>
          <div id="editTools">
            <div class="row">
              <label>Image <input id="editImage" type="file" accept="image/png,image/jpeg,image/webp"></label>
              <button id="useLast" type="button" disabled>Use last image</button>
            </div>
            <div class="row">
              <label>Brush <input id="brush" type="range" min="4" max="96" value="32"></label>
              <button id="clearMask" type="button">Clear mask</button>
            </div>
            <div class="row">
              <label>Mask PNG <input id="maskFile" type="file" accept="image/png"></label>
              <label>Strength <input id="strength" type="number" min="0.05" max="1" step="0.05" placeholder="no mask"></label>
            </div>
            <p id="editHint"></p>
          </div>
        </div>
        <div id="about"></div>
        <div id="stage"></div>
        <div id="status">loading models…</div>
        <div id="gallery"></div>
        <script>
        "use strict";
        const $ = (id) => document.getElementById(id);
        let models = [];
        let run = null;
        const gallery = [];
        function selectedModel() { return models.find((m) => m.id === $("model").value); }
        function headers(extra) {
          const result = Object.assign({}, extra || {});
          const key = $("apiKey").value || sessionStorage.getItem("enat-api-key") || "";
          if (key) result["Authorization"] = "Bearer " + key;
          return result;
        }
        function needKey(message) {
          $("keyField").classList.remove("hidden");
          $("status").textContent = "this server needs an API key: " + message;
          $("apiKey").focus();
        }
        function showModel() {
          const model = selectedModel();
          if (!model) return;
          const isClass = model.kind === "class";
          $("classField").classList.toggle("hidden", !isClass);
          $("captionField").classList.toggle("hidden", isClass);
          const settings = model.default_settings;
          $("steps").placeholder = String(settings.steps);
          $("guidance").placeholder = String(settings.guidance_scale);
          $("maskTemperature").placeholder = String(settings.mask_temperature);
          $("sampleTemperature").placeholder = String(settings.sample_temperature);
          const select = $("class");
          select.textContent = "";
          (model.classes || []).forEach((name, index) => {
            const option = document.createElement("option");
            option.value = String(index);
            option.textContent = index + ": " + name.split(",")[0];
            select.appendChild(option);
          });
          // The vocabulary: the class list, or what the caption model was trained to read.
          $("about").textContent = isClass
            ? model.classes.length + " classes: " + model.classes.map((n) => n.split(",")[0]).slice(0, 40).join(", ") + (model.classes.length > 40 ? ", …" : "")
            : model.description;
        }
        function number(id) { return $(id).value === "" ? undefined : Number($(id).value); }
        function makeSlot(seed) {
          const slot = document.createElement("div");
          slot.className = "slot";
          slot.innerHTML = '<div class="frame"><img class="hidden" alt="generated image"></div><progress max="1" value="0"></progress>'
            + '<div class="caption"></div><a class="hidden" download>Download PNG</a>';
          slot.querySelector(".caption").textContent = "seed " + seed;
          $("stage").appendChild(slot);
          return slot;
        }
        // A job is JSON, or for an edit a multipart form: the same fields beside the image and mask files.
        function jobRequest(model, seed, uploads) {
          const fields = { model: model.id, seed: seed, preview: "full" };
          if (model.kind === "class") fields.class_label = Number($("class").value); else fields.caption = $("caption").value;
          for (const [key, id] of [["steps", "steps"], ["guidance_scale", "guidance"], ["mask_temperature", "maskTemperature"], ["sample_temperature", "sampleTemperature"]]) {
            if (number(id) !== undefined) fields[key] = number(id);
          }
          if (!uploads) return { body: JSON.stringify(fields), headers: headers({ "Content-Type": "application/json" }) };
          const form = new FormData();
          for (const [key, value] of Object.entries(fields)) form.append(key, String(value));
          form.append("image", uploads.image, "image.png");
          if (uploads.mask) form.append("mask", uploads.mask, "mask.png");
          else if (number("strength") !== undefined) form.append("strength", String(number("strength")));
          return { body: form, headers: headers() };
        }
        async function generateOne(model, seed, signal, slot, uploads) {
          const job = jobRequest(model, seed, uploads);
          const response = await fetch("/v1/jobs?stream=ndjson", { method: "POST", signal: signal, body: job.body, headers: job.headers });
          if (!response.ok) {
            const error = (await response.json()).error;
            if (response.status === 401) needKey(error.message);
            throw new Error(error.message);
          }
          const image = slot.querySelector("img");
          const bar = slot.querySelector("progress");
          const reader = response.body.getReader();
          const decoder = new TextDecoder();
          let buffered = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffered += decoder.decode(value, { stream: true });
            let newline;
            while ((newline = buffered.indexOf("\n")) >= 0) {
              const event = JSON.parse(buffered.slice(0, newline));
              buffered = buffered.slice(newline + 1);
              if (event.type === "progress") {
                bar.max = event.steps;
                bar.value = event.step;
                if (event.image) { image.src = "data:image/png;base64," + event.image; image.classList.remove("hidden"); }
                run.progress[seed] = event;
                showProgress();
              } else if (event.type === "completed") {
                bar.value = bar.max;
                const url = "data:image/png;base64," + event.image;
                image.src = url;
                image.classList.remove("hidden");
                const link = slot.querySelector("a");
                link.href = url;
                link.download = "enat-" + event.model + "-" + event.seed + ".png";
                link.classList.remove("hidden");
                addToGallery(url, event.model, event.seed);
                return event;
              } else if (event.type === "error") {
                throw new Error(event.error.message);
              }
            }
          }
          throw new Error("the stream ended early");
        }
        function showProgress() {
          const events = Object.values(run.progress);
          const step = events.reduce((sum, e) => sum + e.step, 0), steps = events.reduce((sum, e) => sum + e.steps, 0);
          const queued = events.find((e) => e.state === "queued");
          let text = (queued ? "queued" : "running") + " · step " + Math.round(step / Math.max(events.length, 1)) + "/" + (events[0] ? events[0].steps : "?");
          if (run.count > 1) text += " · " + run.count + " images";
          $("status").textContent = text + " · " + ((performance.now() - run.started) / 1000).toFixed(1) + " s";
        }
        function addToGallery(url, model, seed) {
          gallery.push({ url, model, seed });
          $("useLast").disabled = false;
          const thumb = document.createElement("img");
          thumb.src = url;
          thumb.title = model + ", seed " + seed;
          thumb.addEventListener("click", () => { $("seed").value = String(seed); });
          $("gallery").prepend(thumb);
        }
        async function generate(event) {
          if (event) event.preventDefault();
          const model = selectedModel();
          if (!model) return;
          if ($("apiKey").value) sessionStorage.setItem("enat-api-key", $("apiKey").value);
          // The previous run's jobs are not wanted any more: aborting their streams cancels them.
          if (run) run.controller.abort();
          const count = Math.min(4, Math.max(1, number("count") || 1));
          const seed = Math.max(0, Math.floor(number("seed") || 0));
          run = { controller: new AbortController(), started: performance.now(), progress: {}, count: count };
          const current = run;
          $("stage").textContent = "";
          document.body.dataset.state = "running";
          $("status").textContent = "submitting…";
          const seeds = Array.from({ length: count }, (_, i) => seed + i);
          try {
            const uploads = inpainting() ? await editUploads() : null;
            const results = await Promise.all(seeds.map((s) => generateOne(model, s, current.controller.signal, makeSlot(s), uploads)));
            if (run !== current) return;
            const seconds = ((performance.now() - current.started) / 1000).toFixed(1);
            $("status").textContent = "done · " + results[0].steps + " steps · seed " + results.map((r) => r.seed).join(", ") + " · " + seconds + " s";
            document.body.dataset.state = "succeeded";
          } catch (error) {
            if (run !== current || error.name === "AbortError") return;
            current.controller.abort();
            if ($("keyField").classList.contains("hidden")) $("status").textContent = "error: " + error.message;
            document.body.dataset.state = "failed";
          }
        }
        // Inpainting: the source at the model's resolution (centre square, as the server fits
        // it) and a mask layer painted over it; painted pixels are the ones regenerated.
        const editor = { source: null, stroke: null };
        function inpainting() { return $("mode").value === "inpaint"; }
        function showMode() {
          $("editPanel").classList.toggle("hidden", !inpainting());
          const model = selectedModel();
          if (inpainting() && !editor.source && gallery.length) useLast();
          $("editHint").textContent = model && !model.can_edit
            ? "Model " + model.id + " cannot edit images (its bundle has no VQGAN encoder); choose another."
            : "Paint over what to regenerate, or load a mask PNG whose transparent pixels mark it. Without a mask, a strength (0 to 1) makes a variation.";
        }
        function fitEditor() {
          const model = selectedModel();
          const side = model ? model.resolution : 256;
          if ($("sourceCanvas").width === side) return;
          for (const canvas of [$("sourceCanvas"), $("maskCanvas")]) { canvas.width = side; canvas.height = side; }
          if (editor.source) drawSource(editor.source);
        }
        function loadImage(url) {
          return new Promise((resolve, reject) => {
            const image = new Image();
            image.onload = () => resolve(image);
            image.onerror = () => reject(new Error("the browser cannot read that image"));
            image.src = url;
          });
        }
        function drawSquare(image, canvas, smooth) {
          const context = canvas.getContext("2d");
          const square = Math.min(image.naturalWidth, image.naturalHeight);
          context.imageSmoothingEnabled = smooth;
          context.clearRect(0, 0, canvas.width, canvas.height);
          context.drawImage(image, (image.naturalWidth - square) / 2, (image.naturalHeight - square) / 2, square, square, 0, 0, canvas.width, canvas.height);
        }
        function drawSource(image) {
          editor.source = image;
          drawSquare(image, $("sourceCanvas"), true);
          clearMask();
        }
        function clearMask() {
          const canvas = $("maskCanvas");
          canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
        }
        function useLast() {
          if (!gallery.length) return;
          loadImage(gallery[gallery.length - 1].url).then(drawSource).catch((error) => { $("status").textContent = "error: " + error.message; });
        }
        function openFile(input, then) {
          const file = input.files[0];
          if (!file) return;
          const url = URL.createObjectURL(file);
          loadImage(url).then(then).catch((error) => { $("status").textContent = "error: " + error.message; }).finally(() => URL.revokeObjectURL(url));
        }
        // A mask PNG's fully transparent pixels become the painted area (as the API reads masks).
        function drawMask(image) {
          const canvas = $("maskCanvas"), side = canvas.width;
          const scratch = document.createElement("canvas");
          scratch.width = side;
          scratch.height = side;
          drawSquare(image, scratch, false);
          const pixels = scratch.getContext("2d").getImageData(0, 0, side, side).data;
          const context = canvas.getContext("2d");
          const painted = context.createImageData(side, side);
          for (let i = 0; i < pixels.length; i += 4) {
            if (pixels[i + 3] === 0) painted.data.set([255, 0, 255, 255], i);
          }
          context.putImageData(painted, 0, 0);
        }
        function brushPoint(event) {
          const canvas = $("maskCanvas"), box = canvas.getBoundingClientRect();
          return { x: (event.clientX - box.left) * canvas.width / box.width, y: (event.clientY - box.top) * canvas.height / box.height };
        }
        function paint(from, to) {
          const canvas = $("maskCanvas"), context = canvas.getContext("2d");
          const width = Number($("brush").value) * canvas.width / 256;
          context.strokeStyle = context.fillStyle = "#f0f";
          context.lineWidth = width;
          context.lineCap = "round";
          context.beginPath();
          context.moveTo(from.x, from.y);
          context.lineTo(to.x, to.y);
          context.stroke();
          context.beginPath();
          context.arc(to.x, to.y, width / 2, 0, 2 * Math.PI);
          context.fill();
        }
        function canvasBlob(canvas) {
          return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("cannot encode the canvas"))), "image/png"));
        }
        // The files of an edit job: the source, and the mask (transparent where painted) if any is painted.
        async function editUploads() {
          if (!editor.source) throw new Error("choose an image to edit (upload one, or use the last one made)");
          const canvas = $("maskCanvas"), side = canvas.width;
          const painted = canvas.getContext("2d").getImageData(0, 0, side, side).data;
          const scratch = document.createElement("canvas");
          scratch.width = side;
          scratch.height = side;
          const context = scratch.getContext("2d");
          const mask = context.createImageData(side, side);
          let any = false;
          for (let i = 0; i < painted.length; i += 4) {
            const regenerate = painted[i + 3] > 0;
            any = any || regenerate;
            mask.data[i + 3] = regenerate ? 0 : 255;
          }
          context.putImageData(mask, 0, 0);
          return { image: await canvasBlob($("sourceCanvas")), mask: any ? await canvasBlob(scratch) : null };
        }
        function newSeed() {
          // Below 2^53, as the server's own random seeds: a JavaScript number holds it exactly.
          $("seed").value = String(Math.floor(Math.random() * 2 ** 32) * 2 ** 21 + Math.floor(Math.random() * 2 ** 21));
          generate();
        }
        async function loadModels() {
          const response = await fetch("/v1/models", { headers: headers() });
          const list = await response.json();
          if (response.status === 401) { needKey(list.error.message); return; }
          models = list.data;
          const select = $("model");
          select.textContent = "";
          models.forEach((m) => {
            const option = document.createElement("option");
            option.value = m.id;
            option.textContent = m.id + " (" + m.kind + ", " + m.size + ")";
            select.appendChild(option);
          });
          const wanted = new URLSearchParams(location.search).get("model");
          if (wanted && models.some((m) => m.id === wanted)) select.value = wanted;
          showModel();
          fitEditor();
          if (new URLSearchParams(location.search).get("mode") === "inpaint") $("mode").value = "inpaint";
          showMode();
          $("status").textContent = models.length ? "ready" : "no model loaded";
          if (models.length && new URLSearchParams(location.search).has("autostart")) generate();
        }
        $("model").addEventListener("change", () => { showModel(); fitEditor(); showMode(); });
        $("mode").addEventListener("change", () => { fitEditor(); showMode(); });
        $("editImage").addEventListener("change", () => openFile($("editImage"), drawSource));
        $("maskFile").addEventListener("change", () => openFile($("maskFile"), drawMask));
        $("useLast").addEventListener("click", useLast);
        $("clearMask").addEventListener("click", clearMask);
        $("maskCanvas").addEventListener("pointerdown", (event) => {
          event.preventDefault();
          $("maskCanvas").setPointerCapture(event.pointerId);
          editor.stroke = brushPoint(event);
          paint(editor.stroke, editor.stroke);
        });
        $("maskCanvas").addEventListener("pointermove", (event) => {
          if (!editor.stroke) return;
          const point = brushPoint(event);
          paint(editor.stroke, point);
          editor.stroke = point;
        });
        for (const name of ["pointerup", "pointercancel"]) $("maskCanvas").addEventListener(name, () => { editor.stroke = null; });
        $("form").addEventListener("submit", (event) => { event.preventDefault(); if (!models.length) loadModels().then(generate); else generate(event); });
        $("newSeed").addEventListener("click", newSeed);
        loadModels().catch((error) => { $("status").textContent = "error: " + error; });
        </script>
        </body>
        </html>
        """#
}

// The console's browser entry: defines the custom elements; the page holds <js-console>.
import "./progress.js";
import "./log.js";
import "./list.js";
import "./batch.js";
import "./job.js";
import "./app.js";

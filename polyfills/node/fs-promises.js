// node:fs/promises for bundles: the runtime's, through node:fs so FileHandle streams work.
module.exports = require('./fs.js').promises;

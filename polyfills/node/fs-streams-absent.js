// fs's streams in a bundle where no file named them at build time (src/runtimes/node/bundle.ts
// leaves them and the stream module out then): a call that reaches them anyway says so.

function absent() {
  const err = new Error('fs streams were left out of this build because no bundled file names createReadStream, createWriteStream, ReadStream, WriteStream or readLines; name one of them in your code (or file an issue) to have them bundled');
  err.code = 'ERR_FABRICKS_FS_STREAMS_ABSENT';
  throw err;
}

module.exports = {
  ReadStream: function ReadStream() {
    absent();
  },
  WriteStream: function WriteStream() {
    absent();
  },
};

// HKube's README example, step 3: the sum of all Multiply results (args.input[0] is their array).
// CommonJS, as in HKube's docs (the package.json beside it says so).
module.exports.start = (args) => args.input[0].reduce((sum, value) => sum + value, 0);

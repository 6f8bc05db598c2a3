import { digestOf } from '@kraken/oci-content'; console.log(digestOf('x').value);
